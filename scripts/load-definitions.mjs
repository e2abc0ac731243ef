// Loads versioned definitions (triggers, segments) from JSON files through the admin API: one
// definition per file, its id the file name. A file refused because it names another definition
// not loaded yet (a segment naming a segment) is tried again after the others.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

/** PUTs every `*.json` of `dir` to `/v1/<resource>/<id>`; returns [{ id, status, version }], throws on a refusal. */
export async function putDefinitions({ url, key, dir, resource, transform = (d) => d }) {
  let pending = (await readdir(dir)).filter((f) => f.endsWith(".json")).sort();
  const results = [];
  while (pending.length > 0) {
    const refused = [];
    for (const file of pending) {
      const id = path.basename(file, ".json");
      const definition = transform(JSON.parse(await readFile(path.join(dir, file), "utf8")));
      const res = await fetch(`${url}/v1/${resource}/${id}`, { method: "PUT", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(definition) });
      const body = await res.json();
      if (res.ok) results.push({ id, status: res.status === 201 ? "created" : "saved", version: body.version });
      else refused.push({ file, error: `${file}: ${res.status} ${JSON.stringify(body.errors ?? body.detail)}` });
    }
    // No progress: what is left is refused for good.
    if (refused.length === pending.length) throw new Error(refused.map((r) => r.error).join("\n"));
    pending = refused.map((r) => r.file);
  }
  return results;
}
