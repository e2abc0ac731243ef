// Prints a new API key and the `wrangler d1 execute` command that stores its hash: how the first
// admin key of a deployment is made (after that, use POST /v1/admin/keys).
//   node scripts/create-key.mjs admin "First admin" [--env production]
import { randomBytes } from "node:crypto";
import { hashKey } from "./local.mjs";

const [kind, name = `${kind} key`, ...rest] = process.argv.slice(2);
const prefixes = { write: "wk", read: "rk", admin: "ak" };
if (!prefixes[kind]) {
  console.error('usage: node scripts/create-key.mjs <write|read|admin> "name" [--env production]');
  process.exit(2);
}
const envIndex = rest.indexOf("--env");
const envName = envIndex >= 0 ? rest[envIndex + 1] : "production";
const key = `${prefixes[kind]}_${randomBytes(24).toString("base64url")}`;
const id = `key_${Date.now().toString(16).padStart(12, "0")}${randomBytes(8).toString("hex")}`;
const sql = `INSERT INTO api_keys (id, kind, hash, prefix, name, created_at) VALUES ('${id}', '${kind}', '${hashKey(key)}', '${key.slice(0, 7)}', '${name.replaceAll("'", "''")}', ${Date.now()});`;
console.log(`Your new ${kind} key (shown once; store it in your secret manager):\n\n  ${key}\n`);
console.log(`Store its hash in the ${envName} database:\n\n  npx wrangler d1 execute DB --env ${envName} --remote --command "${sql}"\n`);
