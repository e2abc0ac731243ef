// The second baseline of `npm run bench`: the trivial worker plus the one KV read that every
// profile read of Rapport makes. `GET /<n>` answers the KV value `doc:<n>` (the same document as
// bench/trivial/), and `PUT /<n>` stores it, so the benchmark can fill as many keys as it reads
// profiles. Rapport's ratio to this worker is what Rapport costs beyond its snapshot read; on
// the local runtime a KV read is a request to miniflare's KV simulator, in the same process.
import { profileDocument } from "../trivial/document.js";

export default {
  async fetch(request, env) {
    const path = request.url.slice(request.url.indexOf("/", 8) + 1);
    // What the benchmark's start-up waits for.
    if (path === "health") return new Response("ok");
    const key = `doc:${path}`;
    if (request.method === "PUT") {
      await env.DOCS.put(key, profileDocument);
      return new Response(null, { status: 204 });
    }
    const value = await env.DOCS.get(key);
    return value === null ? new Response("not found", { status: 404 }) : new Response(value, { headers: { "content-type": "application/json" } });
  },
};
