// Loads content blocks kept as files through the admin API: one folder per block, its id the
// folder name (src/content/blocks/README.md says which file is what). Saves each as a new
// version and publishes it, partials first. How the demo blocks, or your own kept in a
// repository, reach a deployment.
//
//   node scripts/load-blocks.mjs [dir] --url https://rapport.example.com --key ak_… [--draft]
//
// --draft saves without publishing (preview them at /preview, publish with the API).
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { answerHelp, parseArgs, target, TARGET_HELP } from "./cli-args.mjs";
import { blockFromFiles, publishOrder } from "../src/content/block-files.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const DEMO_BLOCKS_DIR = path.join(ROOT, "src", "content", "blocks");

async function readBlocks(dir) {
  const blocks = {};
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const files = {};
    for (const file of await readdir(path.join(dir, entry.name))) files[file] = await readFile(path.join(dir, entry.name, file), "utf8");
    blocks[entry.name] = files;
  }
  return blocks;
}

/** PUTs (and publishes) every block of `dir`; returns [{ id, version, published }], throws on the first refusal. */
export async function loadBlocks({ url, key, dir = DEMO_BLOCKS_DIR, draft = false }) {
  const blocks = await readBlocks(dir);
  const results = [];
  for (const id of publishOrder(blocks)) {
    const res = await fetch(`${url}/v1/blocks/${id}${draft ? "" : "?publish=true"}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(blockFromFiles(blocks[id])),
    });
    const body = await res.json();
    if (!res.ok) throw new Error(`${id}: ${res.status} ${body.detail ?? ""} ${JSON.stringify(body.errors ?? [])}`);
    results.push({ id, version: body.version, published: body.publishedVersion === body.version });
  }
  return results;
}

const USAGE = `
Usage: npm run blocks:load -- [dir] [--url <url>] [--key <admin key>] [--draft]

Loads content blocks kept as files, one folder per block (its id the folder name), saves each as
a new version and publishes it (default dir: src/content/blocks, the demo blocks).
  --draft            save without publishing
${TARGET_HELP}
`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  answerHelp(USAGE);
  const { option, flag, positional } = parseArgs();
  const { url, key } = target(option);
  const draft = flag("draft");
  const dir = positional()[0] ? path.resolve(positional()[0]) : DEMO_BLOCKS_DIR;
  for (const r of await loadBlocks({ url, key, dir, draft })) console.log(`${r.id}: version ${r.version}${r.published ? " (published)" : " (draft)"}`);
}
