/**
 * `GET /preview`: a page for marketers. Pick a block, a version and a customer, see the block
 * rendered as that customer's email would show it (HTML in a sandboxed frame, JSON, SVG, PNG),
 * whether the fallback was served and why, and the links to paste into the ESP. The page holds
 * no data: it calls the admin API with the key typed into it (kept for the browser tab only).
 */
import type { App } from "../api/app";
import { route } from "../api/route";

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Rapport: block preview</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d1d1f;display:grid;grid-template-columns:320px 1fr;min-height:100vh}
form{padding:1rem;background:#f6f6f7;border-right:1px solid #ddd}label{display:block;margin:.6rem 0 .2rem;font-weight:600}
input,select,button{width:100%;box-sizing:border-box;padding:.4rem;font:inherit}button{margin-top:1rem;cursor:pointer}
main{padding:1rem}iframe{width:100%;height:70vh;border:1px solid #ddd;background:#fff}#status{margin:.5rem 0;font-weight:600}
pre{background:#f6f6f6;padding:.6rem;overflow:auto;font-size:13px}.fallback{color:#b45309}.ok{color:#047857}
</style></head><body>
<form id="f">
<h1 style="font-size:1.2rem">Block preview</h1>
<p style="font-size:13px">The console's <a href="/console/content">Content page</a> shows the same preview after one sign-in, with each block's engagement and experiments.</p>
<label for="key">Admin key</label><input id="key" type="password" autocomplete="off" placeholder="ak_…">
<label for="block">Block</label><select id="block"></select>
<label for="version">Version</label><select id="version"></select>
<label for="customer">Customer</label><input id="customer" placeholder="id, user id, email:…">
<label for="format">Format</label><select id="format"><option>html</option><option>json</option><option>svg</option><option>png</option></select>
<button type="submit">Render</button>
</form>
<main><div id="status">Enter an admin key to list blocks.</div><div id="out"></div><h3>Links for this customer</h3><pre id="links">–</pre></main>
<script>
const $=id=>document.getElementById(id);
const key=()=>$('key').value.trim();
$('key').value=sessionStorage.getItem('rapportKey')||'';
const api=(path)=>fetch(path,{headers:{authorization:'Bearer '+key()}});
async function loadBlocks(){
  sessionStorage.setItem('rapportKey',key());
  const r=await api('/v1/blocks'); if(!r.ok){$('status').textContent='Key refused ('+r.status+')';return;}
  const {blocks}=await r.json();
  $('block').innerHTML=blocks.map(b=>'<option value="'+b.id+'">'+b.id+(b.publishedVersion?' (v'+b.publishedVersion+' live)':' (draft)')+'</option>').join('');
  $('status').textContent=blocks.length+' blocks'; await loadVersions();
}
async function loadVersions(){
  const id=$('block').value; if(!id)return;
  const r=await api('/v1/blocks/'+encodeURIComponent(id)+'/versions'); const {versions}=await r.json();
  $('version').innerHTML=versions.map(v=>'<option value="'+v.version+'">v'+v.version+' · '+v.createdAt+'</option>').join('');
}
$('key').addEventListener('change',loadBlocks);$('block').addEventListener('change',loadVersions);
$('f').addEventListener('submit',async e=>{
  e.preventDefault();
  const id=$('block').value,q=new URLSearchParams({customer:$('customer').value,version:$('version').value,format:$('format').value});
  const r=await api('/v1/blocks/'+encodeURIComponent(id)+'/preview?'+q);
  const out=$('out');out.textContent='';
  if(!r.ok){$('status').textContent='Error '+r.status;out.textContent=await r.text();return;}
  const fb=r.headers.get('x-rapport-fallback');
  $('status').className=fb==='none'?'ok':'fallback';
  $('status').textContent=fb==='none'?'Rendered for this customer':'Fallback served: '+fb;
  const type=r.headers.get('content-type')||'';
  if(type.startsWith('text/html')){const f=document.createElement('iframe');f.sandbox='';f.srcdoc=await r.text();out.append(f);}
  else if(type.startsWith('image/')){const img=document.createElement('img');img.src=URL.createObjectURL(await r.blob());out.append(img);}
  else{const p=document.createElement('pre');p.textContent=JSON.stringify(await r.json(),null,2);out.append(p);}
  const l=await api('/v1/blocks/'+encodeURIComponent(id)+'/links?'+new URLSearchParams({customer:$('customer').value}));
  $('links').textContent=l.ok?JSON.stringify(await l.json(),null,2):'(no links: '+l.status+')';
});
if(key())loadBlocks();
</script></body></html>`;

export function registerPreviewPage(app: App): void {
  const spec = { method: "get", path: "/preview", tag: "Content", scope: "public", auth: "A static page; it asks for an admin key and sends it with each call it makes", summary: "A page to preview any block for any customer and format", responses: { 200: { description: "The page", contentType: "text/html" } } } as const;
  route(app, spec, (c) => c.html(PAGE, 200, { "cache-control": "no-cache", "content-security-policy": "default-src 'self'; img-src 'self' blob: data: https:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-src 'self' about: data:" }));
}
