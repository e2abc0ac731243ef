// `npm run engagement:demo`: simulated email traffic for the engagement reports (docs/engagement.md)
// against a running Rapport. For simulated shoppers of `npm start` (ids demo-sim-anon-<i>), each
// gets one email from a trigger (cart-abandonment with the product-grid block, post-purchase with
// the nps-question survey block): the ESP's `Email Delivered` (Segment's spec, through /v1/batch),
// Apple Mail Privacy Protection's open at delivery (the open pixel from Apple's network), a link
// scanner's click at delivery for some, a person's open (the pixel, a phone) for many, a person's
// click on a click-time link for some, a survey answer for some, and orders after clicks more
// often than after opens alone. Then the reports and survey results as the API gives them.
//
//   node scripts/engagement-demo.mjs [--customers 200] [--url …] [--key …]
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { random } from "../tools/sim/random.ts";
import { answerHelp, parseArgs, target, TARGET_HELP } from "./cli-args.mjs";
import { DEMO_KEYS } from "./local.mjs";
import { waitFor } from "./wait-for.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148";
const CHROME = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
/** What an email of each trigger carries (the demo's trigger recipes). */
const EMAILS = [
  { trigger: "cart-abandonment", block: "product-grid" },
  { trigger: "post-purchase", block: "nps-question" },
];

const linkIn = (html, pattern) => {
  const m = pattern.exec(html);
  return m ? m[1].replaceAll("&amp;", "&") : null;
};

/** Saves the demo survey (the same definition again changes nothing). */
export async function loadDemoSurvey({ url, adminKey }) {
  const body = await readFile(path.join(ROOT, "src", "surveys", "recipes", "nps.json"), "utf8");
  const res = await fetch(`${url}/v1/surveys/nps`, { method: "PUT", headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" }, body });
  if (!res.ok) throw new Error(`the demo survey: ${res.status} ${await res.text()}`);
}

export async function runEngagementDemo({ url, adminKey, writeKey = DEMO_KEYS.write, prefix = "demo-sim", customers = 200, seed = 25, waitSeconds = 120 }) {
  const admin = { authorization: `Bearer ${adminKey}` };
  const write = { authorization: `Basic ${btoa(`${writeKey}:`)}`, "content-type": "application/json" };
  const next = random(seed);
  const batch = async (events) => {
    for (let i = 0; i < events.length; i += 100) {
      const res = await fetch(`${url}/v1/batch`, { method: "POST", headers: write, body: JSON.stringify({ batch: events.slice(i, i + 100) }) });
      if (!res.ok) throw new Error(`batch: ${res.status} ${await res.text()}`);
    }
  };
  await loadDemoSurvey({ url, adminKey });
  const linksOf = (block, i) => fetch(`${url}/v1/blocks/${block}/links?customer=${encodeURIComponent(`anonymous_id:${prefix}-anon-${i}`)}`, { headers: admin });
  await waitFor(async () => (await linksOf("product-grid", customers - 1)).ok, waitSeconds * 3);

  const sent = [];
  const delivered = [];
  const now = Date.now();
  for (let i = 0; i < customers; i++) {
    const email = EMAILS[i % EMAILS.length];
    const anonymousId = `${prefix}-anon-${i}`;
    const links = await linksOf(email.block, i);
    if (!links.ok) continue;
    const { token } = await links.json();
    const deliveryId = `dlv_demo_${seed}_${i}`;
    const at = new Date(now - 60_000).toISOString();
    const ids = { delivery_id: deliveryId, trigger_id: email.trigger, block_id: email.block, email_id: `esp-${seed}-${i}` };
    delivered.push({ type: "track", event: "Email Delivered", anonymousId, messageId: `${deliveryId}-delivered`, timestamp: at, properties: ids });
    // A gateway's link scanner clicks as the message lands (within the second): a scanner's click.
    if (next() < 0.15) delivered.push({ type: "track", event: "Email Link Clicked", anonymousId, messageId: `${deliveryId}-scan`, timestamp: at, properties: { ...ids, link_url: "https://shop.example/" } });
    sent.push({ i, anonymousId, email, token, deliveryId });
  }
  await batch(delivered);

  const report = (by) => fetch(`${url}/v1/reports/engagement?by=${by}`, { headers: admin }).then((r) => r.json());
  const line = (r, key) => r.lines?.find((l) => l.key === key);
  // The deliveries first: opens and clicks find their message's trigger and block.
  await waitFor(async () => {
    const r = await report("trigger");
    return EMAILS.every((e) => (line(r, e.trigger)?.delivered ?? 0) >= sent.filter((s) => s.email === e).length);
  }, waitSeconds);

  const people = [];
  const answers = [];
  for (const s of sent) {
    const html = await (await fetch(`${s.token.html}&d=${s.deliveryId}&tr=${s.email.trigger}`)).text();
    const pixel = linkIn(html, /src="([^"]*\/v1\/o\/[^"]*)"/) ?? `${url}/v1/o/${s.email.block}?t=${encodeURIComponent(s.token.html.split("t=")[1])}&d=${s.deliveryId}&tr=${s.email.trigger}`;
    // Apple Mail Privacy Protection fetches the images of a third of the messages at delivery.
    if (next() < 0.35) await fetch(pixel, { headers: { "user-agent": "Mozilla/5.0", "cf-connecting-ip": "17.58.10.1" } });
    if (next() >= 0.45) continue;
    await fetch(pixel, { headers: { "user-agent": PHONE } });
    let clicked = false;
    if (next() < 0.35) {
      const link = linkIn(html, /href="([^"]*\/v1\/r\/[^"]*)"/);
      if (link) {
        await fetch(link, { headers: { "user-agent": PHONE }, redirect: "manual" });
        clicked = true;
      }
    }
    if (s.email.block === "nps-question" && next() < 0.6) {
      // Promoters more often than not; a person's click in a browser (Sec-Fetch-User: ?1).
      const score = next() < 0.6 ? 9 + Math.floor(next() * 2) : Math.floor(next() * 9);
      const link = linkIn(html, new RegExp(`href="([^"]*\\/v1\\/s\\/nps\\/${score}\\?[^"]*)"`));
      if (link) {
        await fetch(link, { headers: { "user-agent": CHROME, "sec-fetch-user": "?1", "sec-fetch-mode": "navigate" } });
        answers.push(score);
      }
    }
    people.push({ ...s, clicked });
  }
  // Orders once the touches are counted: a conversion is credited to the touch before it.
  const humanOpens = (r) => EMAILS.reduce((n, e) => n + (line(r, e.trigger)?.uniqueOpens ?? 0), 0);
  await waitFor(async () => humanOpens(await report("trigger")) >= people.length, waitSeconds);
  const buyers = people.filter((p) => next() < (p.clicked ? 0.4 : 0.1));
  await batch(buyers.map((p, k) => ({ type: "track", event: "Order Completed", anonymousId: p.anonymousId, messageId: `${prefix}-engagement-${seed}-order-${k}`, properties: { order_id: `${prefix}-engagement-${seed}-${k}`, revenue: 30 + (k % 5) * 10, currency: "EUR" } })));
  const conversions = (r) => EMAILS.reduce((n, e) => n + (line(r, e.trigger)?.conversions ?? 0), 0);
  const byTrigger = (await waitFor(async () => {
    const r = await report("trigger");
    return conversions(r) >= buyers.length ? r : null;
  }, waitSeconds)) ?? (await report("trigger"));
  const survey = await waitFor(async () => {
    const r = await fetch(`${url}/v1/surveys/nps/results`, { headers: admin }).then((res) => res.json());
    return r.respondents >= answers.length ? r : null;
  }, waitSeconds);
  return { sent: sent.length, opened: people.length, orders: buyers.length, answers: answers.length, byTrigger, byBlock: await report("block"), survey };
}

/** One line per trigger or block. */
export function describeReport(r, keys) {
  const pct = (x) => (x === null || x === undefined ? "–" : `${(x * 100).toFixed(1)} %`);
  return r.lines
    .filter((l) => keys.includes(l.key))
    .map((l) => `  ${l.key.padEnd(17)} delivered ${String(l.delivered).padStart(4)}  human opens ${String(l.uniqueOpens).padStart(4)} (${pct(l.openRate)})  machine opens ${String(l.machineOpens).padStart(4)}  clicks ${String(l.uniqueClicks).padStart(3)}  scanner clicks ${String(l.scannerClicks).padStart(3)}  orders ${String(l.conversions).padStart(3)}  revenue ${l.revenue.toFixed(2)}`)
    .join("\n");
}

export const describeSurvey = (s) => `  nps: ${s.respondents} respondents${s.responseRate !== null ? ` (${(s.responseRate * 100).toFixed(1)} % of recipients)` : ""}; ${s.answers.filter((a) => a.customers > 0).map((a) => `${a.value}: ${a.customers}`).join(", ")}`;

const USAGE = `
Usage: npm run engagement:demo -- [--customers 200] [--url <url>] [--key <admin key>]

Simulated email traffic for the engagement reports on the simulated shoppers of npm start:
deliveries, machine and human opens, scanner and human clicks, survey answers, orders; then
prints the reports per trigger and block and the survey's results (docs/engagement.md).
${TARGET_HELP}
`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  answerHelp(USAGE);
  const { option } = parseArgs();
  const { url, key } = target(option);
  const run = await runEngagementDemo({ url, adminKey: key, customers: Number(option("customers") ?? 200) });
  console.log(`${run.sent} emails delivered, ${run.opened} opened by people, ${run.orders} orders, ${run.answers} survey answers\nBy trigger:\n${describeReport(run.byTrigger, EMAILS.map((e) => e.trigger))}\nBy block:\n${describeReport(run.byBlock, EMAILS.map((e) => e.block))}\nSurvey:\n${describeSurvey(run.survey)}`);
}
