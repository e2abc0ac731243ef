// A small closed-loop HTTP load generator: `concurrency` workers send requests back to back for
// `seconds` (or until `maxRequests`), to 127.0.0.1 only. Returns throughput and latency quantiles.
// `inspect(res, i)` reads the response itself and says whether it is right (false counts an error).
export async function load({ url, makeRequest, concurrency, seconds, maxRequests = Infinity, expectStatus = 200, inspect }) {
  if (!/^http:\/\/127\.0\.0\.1[:/]/.test(url)) throw new Error(`bench targets 127.0.0.1 only, not ${url}`);
  const latencies = [];
  let sent = 0;
  let errors = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < until && sent < maxRequests) {
      const i = sent++;
      const { path, init } = makeRequest(i);
      const t = performance.now();
      try {
        const res = await fetch(`${url}${path}`, init);
        const ok = inspect ? await inspect(res, i) : await res.arrayBuffer().then(() => true);
        if (res.status !== expectStatus || !ok) errors += 1;
      } catch {
        errors += 1;
      }
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { requests: latencies.length, errors, seconds: elapsed, rps: latencies.length / elapsed, p50: q(0.5), p99: q(0.99) };
}

export function quantile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}
