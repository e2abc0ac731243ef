// Shared by the Node tests: reading a profile from a running Rapport, and waiting for something.
import { DEMO_KEYS } from "../../scripts/local.mjs";

export async function profileAt(url, ref) {
  const res = await fetch(`${url}/v1/customers/${encodeURIComponent(ref)}`, { headers: { authorization: `Bearer ${DEMO_KEYS.read}` } });
  return res.ok ? res.json() : null;
}

export async function eventually(check, what, ms = 30_000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
