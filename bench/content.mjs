// Content phase of `npm run bench`: render throughput and latency of the demo product-grid block
// (HTML, send time) and cart-reminder block (PNG, open time), against GET profile for the same
// customers, and of the same HTML with an experiment running against without, in alternating
// rounds of the same run; and the engagement endpoints: the open pixel and the click-time
// redirect, each hit one classified event queued for the pipeline. Talks to 127.0.0.1 only.
import { loadBlocks } from "../scripts/load-blocks.mjs";
import { load, quantile } from "./load.mjs";

/** The catalog the bench workload's products (sku-0 … sku-199) live in: every tenth sold out. */
function catalogOf(count) {
  return Array.from({ length: count }, (_, i) => ({ product_id: `sku-${i}`, name: `Product ${i}`, price: 10 + (i % 90), currency: "EUR", url: `https://shop.example/p/sku-${i}`, image_url: `https://shop.example/i/sku-${i}.jpg`, in_stock: i % 10 !== 9 }));
}

/** `products`: the catalog of the workload's products (default: the storefront workload's). */
export async function benchContent({ url, keys, ids, seconds, concurrency, rounds = 4, sample = 1000, products = catalogOf(200) }) {
  const admin = { authorization: `Bearer ${keys.admin}`, "content-type": "application/json" };
  await loadBlocks({ url, key: keys.admin });
  const catalog = await fetch(`${url}/v1/catalog/products`, { method: "POST", headers: admin, body: JSON.stringify({ products }) });
  if (!catalog.ok) throw new Error(`bench catalog: ${catalog.status} ${await catalog.text()}`);

  // Customers whose profiles were read before (so, as at an ESP's second send, served from KV).
  const step = Math.max(1, Math.floor(ids.length / sample));
  const customers = ids.filter((_, i) => i % step === 0).slice(0, sample);
  const tokens = new Array(customers.length);
  await load({
    url,
    concurrency: 16,
    seconds: 120,
    maxRequests: customers.length,
    makeRequest: (i) => ({ path: `/v1/blocks/product-grid/links?customer=${encodeURIComponent(customers[i])}`, init: { headers: admin } }),
    inspect: async (res, i) => {
      tokens[i] = (await res.json()).contentToken;
      return true;
    },
  });
  const known = tokens.map((t, i) => [customers[i], t]).filter(([, t]) => t);
  if (known.length === 0) throw new Error("bench content: no customer tokens");

  // The same block under a running experiment (a copy of product-grid split between itself and a
  // variant with a subject line): what choosing a variant adds to a render (docs/experiments.md).
  const grid = await (await fetch(`${url}/v1/blocks/product-grid`, { headers: admin })).json();
  const copy = await fetch(`${url}/v1/blocks/bench-grid?publish=true`, { method: "PUT", headers: admin, body: JSON.stringify(grid.definition) });
  if (!copy.ok) throw new Error(`bench content: copying product-grid: ${copy.status} ${await copy.text()}`);
  const split = { block: "bench-grid", variants: [{ key: "control" }, { key: "b", slots: { subject: "Picked for you" } }], status: "running" };
  const experiment = await fetch(`${url}/v1/experiments/bench-grid-split`, { method: "PUT", headers: admin, body: JSON.stringify(split) });
  if (!experiment.ok) throw new Error(`bench content: the experiment: ${experiment.status} ${await experiment.text()}`);

  const readAuth = { authorization: `Bearer ${keys.read}` };
  const at = (i) => known[(i * 7919) % known.length];
  const profile = (i) => ({ path: `/v1/customers/${encodeURIComponent(at(i)[0])}`, init: { headers: readAuth } });
  const html = (i) => ({ path: `/v1/content/product-grid.html?t=${encodeURIComponent(at(i)[1])}`, init: {} });
  const png = (i) => ({ path: `/v1/content/cart-reminder.png?t=${encodeURIComponent(at(i)[1])}`, init: {} });
  const htmlExperiment = (i) => ({ path: `/v1/content/bench-grid.html?t=${encodeURIComponent(at(i)[1])}`, init: {} });
  const BROWSER = { "user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148" };
  const pixel = (i) => ({ path: `/v1/o/product-grid?t=${encodeURIComponent(at(i)[1])}&m=bench-${i % 97}&tr=bench`, init: { headers: BROWSER } });
  const click = (i) => ({ path: `/v1/r/product-grid/${i % 4}?t=${encodeURIComponent(at(i)[1])}&m=bench-${i % 97}&tr=bench`, init: { headers: BROWSER, redirect: "manual" } });
  const isGif = async (res) => {
    await res.arrayBuffer();
    return res.headers.get("content-type") === "image/gif";
  };
  const redirects = async (res) => {
    await res.arrayBuffer();
    return res.status === 302;
  };
  // A personalized answer is cacheable for a few minutes; a fallback is no-store: count those.
  const personalized = async (res) => {
    await res.text();
    return (res.headers.get("cache-control") ?? "").startsWith("private");
  };
  const personalizedVariant = async (res) => (await personalized(res)) && res.headers.has("x-rapport-variant");
  const isPng = async (res) => {
    await res.arrayBuffer();
    return res.headers.get("content-type") === "image/png";
  };

  // Warm-up: the first render of each customer and template, and the WASM renderer's start.
  await load({ url, concurrency, seconds: 60, maxRequests: known.length, makeRequest: html, inspect: personalized });
  await load({ url, concurrency, seconds: 30, maxRequests: 200, makeRequest: png, inspect: isPng });
  await load({ url, concurrency, seconds: 60, maxRequests: known.length, makeRequest: htmlExperiment, inspect: personalizedVariant });

  await load({ url, concurrency, seconds: 30, maxRequests: 200, makeRequest: pixel, inspect: isGif });
  await load({ url, concurrency, seconds: 30, maxRequests: 200, makeRequest: click, inspect: redirects, expectStatus: 302 });

  const runs = { profile: [], html: [], htmlExperiment: [], png: [], pixel: [], click: [] };
  for (let r = 0; r < rounds; r++) {
    runs.profile.push(await load({ url, concurrency, seconds, makeRequest: profile }));
    runs.html.push(await load({ url, concurrency, seconds, makeRequest: html, inspect: personalized }));
    runs.htmlExperiment.push(await load({ url, concurrency, seconds, makeRequest: htmlExperiment, inspect: personalizedVariant }));
    runs.png.push(await load({ url, concurrency, seconds, makeRequest: png, inspect: isPng }));
    runs.pixel.push(await load({ url, concurrency, seconds, makeRequest: pixel, inspect: isGif }));
    runs.click.push(await load({ url, concurrency, seconds, makeRequest: click, inspect: redirects, expectStatus: 302 }));
  }
  const merge = (list) => ({ rps: list.reduce((n, x) => n + x.requests, 0) / list.reduce((n, x) => n + x.seconds, 0), p50: quantile(list.map((x) => x.p50), 0.5), p99: Math.max(...list.map((x) => x.p99)), errors: list.reduce((n, x) => n + x.errors, 0) });
  const ratios = (list) => list.map((x, i) => x.rps / runs.profile[i].rps);
  return {
    customers: known.length,
    profile: merge(runs.profile),
    html: { ...merge(runs.html), ratio: quantile(ratios(runs.html), 0.5), ratios: ratios(runs.html) },
    png: { ...merge(runs.png), ratio: quantile(ratios(runs.png), 0.5), ratios: ratios(runs.png) },
    pixel: { ...merge(runs.pixel), ratio: quantile(ratios(runs.pixel), 0.5), ratios: ratios(runs.pixel) },
    click: { ...merge(runs.click), ratio: quantile(ratios(runs.click), 0.5), ratios: ratios(runs.click) },
    // Against the same render without the experiment, round by round.
    htmlExperiment: { ...merge(runs.htmlExperiment), ratio: quantile(runs.htmlExperiment.map((x, i) => x.rps / runs.html[i].rps), 0.5), ratios: runs.htmlExperiment.map((x, i) => x.rps / runs.html[i].rps) },
  };
}
