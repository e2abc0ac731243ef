/**
 * The enrichment job, one page of customers per message (model/jobs.ts `enrich`): answers from the
 * cache or the service, sent through the pipeline as identify events; items over the budget and
 * failed lookups go to later jobs. What it reads and writes: enrichment/job.ts.
 */
import { mapLimited } from "../kernel/concurrency";
import { sha256Hex } from "../kernel/crypto";
import { log } from "../kernel/log";
import { readConfig } from "../model/config";
import type { EnrichJob } from "../model/jobs";
import { enqueue } from "../ingest/accept";
import { enricherSourceId } from "../model/events";
import { type Answer, cached, cacheKey, enrichJobs, eventOf, LOOKUPS_IN_FLIGHT, MAX_ATTEMPTS } from "../enrichment/job";
import { lookup, type LookupResult } from "../enrichment/lookup";
import { getEnricher } from "../enrichment/store";

export interface EnrichOutcome {
  answered: number;
  lookups: number;
  deferred: number;
  failed: number;
}

export async function runEnrichJob(env: Env, job: EnrichJob, now = Date.now(), fetchImpl: typeof fetch = fetch): Promise<EnrichOutcome> {
  const enricher = await getEnricher(env.DB, job.enricherId);
  if (!enricher?.definition.enabled) return { answered: 0, lookups: 0, deferred: 0, failed: 0 };
  const d = enricher.definition;
  const keys = [...new Set(job.items.map((i) => i.key))];
  const names = await Promise.all(keys.map((k) => cacheKey(enricher, k)));
  const nameOf = new Map(keys.map((k, i) => [k, names[i]!]));
  const answers = await cached(env, keys, names);
  const misses = keys.filter((k) => !answers.has(k));
  const budgeted = misses.slice(0, d.budgetPerBatch);
  const overBudget = new Set(misses.slice(d.budgetPerBatch));
  const failed = new Map<string, Extract<LookupResult, { status: "failed" }>>();
  await mapLimited(budgeted, LOOKUPS_IN_FLIGHT, async (key) => {
    const result = await lookup(env, d, key, fetchImpl);
    if (result.status === "failed") return void failed.set(key, result);
    const answer: Answer = { status: result.status, traits: result.status === "found" ? result.traits : {}, at: now };
    answers.set(key, answer);
    await env.PROFILES.put(nameOf.get(key)!, JSON.stringify(answer), { expirationTtl: d.cacheTtlSeconds });
  });

  // A new id per customer, key, answer and refresh period: redeliveries repeat it (and count once).
  const period = Math.floor(now / (d.refreshDays * 86_400_000));
  const answered = job.items.filter((i) => answers.has(i.key));
  const events = await Promise.all(
    answered.map(async (item) => {
      const answer = answers.get(item.key)!;
      const id = `enrich-${enricher.id}-${(await sha256Hex(`${item.customerId}\n${item.key}\n${answer.at}\n${period}`)).slice(0, 32)}`;
      return eventOf(enricher, item, answer, id, now);
    }),
  );
  if (events.length > 0) await enqueue(env, events, [], { receivedAt: new Date(now), sourceId: enricherSourceId(enricher.id) }, `job-enrich-${enricher.id}`);

  const deferred = job.items.filter((i) => overBudget.has(i.key));
  const retry = job.items.filter((i) => failed.has(i.key));
  const next: { body: EnrichJob; delaySeconds?: number }[] = [];
  // Over the budget: the next job, at once (the budget bounds each job's calls, not the rate).
  for (const j of enrichJobs(enricher.id, deferred, job.attempt)) next.push({ body: j });
  if (retry.length > 0) {
    const reasons = [...new Set([...failed.values()].map((f) => f.reason))];
    if (job.attempt >= MAX_ATTEMPTS) log("warn", "enrichment.gave_up", { enricher: enricher.id, items: retry.length, attempts: job.attempt, reasons });
    else {
      const retryAfter = Math.max(0, ...[...failed.values()].map((f) => f.retryAfterSeconds ?? 0));
      // 5 s, 20 s, 80 s, 5 min, 21 min (RETRY_BASE_DELAY_SECONDS = 5): an outage of half an hour.
      const delaySeconds = Math.max(retryAfter, Math.min(3_600, readConfig(env).retryBaseDelaySeconds * 4 ** (job.attempt - 1)));
      log("info", "enrichment.retry_later", { enricher: enricher.id, items: retry.length, attempt: job.attempt, delaySeconds, reasons });
      for (const j of enrichJobs(enricher.id, retry, job.attempt + 1)) next.push({ body: j, delaySeconds });
    }
  }
  if (next.length > 0) await env.JOBS.sendBatch(next.map((m) => ({ body: m.body, ...(m.delaySeconds ? { delaySeconds: m.delaySeconds } : {}) })));
  return { answered: events.length, lookups: budgeted.length, deferred: deferred.length, failed: retry.length };
}
