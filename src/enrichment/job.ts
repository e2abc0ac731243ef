/**
 * The enrichment job (jobs queue): the pipeline sends the customers an enricher should look up
 * after each batch; the job answers them from the cache (KV, per key, for `cacheTtlSeconds`) or the
 * service (at most `budgetPerBatch` calls, six at a time, each within `timeoutMs`), and sends the
 * answers through the pipeline as identify events of the source `rapport-enricher:<id>`: traits
 * marked with their source, which a customer's own values always beat (profiles/apply.ts).
 *
 * Nothing waits on the service: events were processed before the job was sent. Items over the
 * budget go to a next job at once; failed lookups go to a later job with backoff (×4 from
 * RETRY_BASE_DELAY_SECONDS), up to MAX_ATTEMPTS, after which a later batch of the customer asks again. Idempotent: the identify
 * events have deterministic ids, so a redelivered job changes nothing twice.
 */
import { mapLimited } from "../kernel/concurrency";
import { sha256Hex } from "../kernel/crypto";
import type { StoredEvent } from "../model/events";
import { enqueue } from "../ingest/accept";
import { log } from "../kernel/log";
import { readConfig } from "../model/config";
import { enricherSource, enricherSourceId } from "./definition";
import { lookup, type LookupResult } from "./lookup";
import type { EnrichItem, EnrichJob } from "../model/jobs";
import { getEnricher, listEnrichers, type StoredEnricher } from "./store";

export const MAX_ATTEMPTS = 6;
const LOOKUPS_IN_FLIGHT = 6;
/** Queue messages are at most 128 KB: items travel in jobs of this many. */
export const ITEMS_PER_JOB = 400;

export function enrichJobs(enricherId: string, items: readonly EnrichItem[], attempt = 1): EnrichJob[] {
  const jobs: EnrichJob[] = [];
  for (let i = 0; i < items.length; i += ITEMS_PER_JOB) jobs.push({ v: 1, kind: "enrich", enricherId, items: items.slice(i, i + ITEMS_PER_JOB), attempt });
  return jobs;
}

interface Answer {
  status: "found" | "not_found";
  traits: Record<string, unknown>;
  /** When the service gave it (ms): part of the event ids, so a fresh answer is a new event. */
  at: number;
}

/** The cache key: per enricher version (a changed mapping reads afresh), the lookup key hashed (emails stay out of key lists). */
export const cacheKey = async (e: StoredEnricher, key: string) => `enrich:${e.id}:v${e.version}:${(await sha256Hex(key)).slice(0, 32)}`;

/** Erasure: the answers cached for these emails by enrichers that look emails up. */
export async function forgetEnrichmentAnswers(env: Env, emails: readonly string[]): Promise<void> {
  if (emails.length === 0) return;
  const byEmail = (await listEnrichers(env.DB)).filter((e) => e.definition.key === "email");
  await Promise.all(byEmail.flatMap((e) => emails.map(async (email) => env.PROFILES.delete(await cacheKey(e, email)))));
}

/** The cached answers of these keys; `names` are their cache keys, in the same order. */
async function cached(env: Env, keys: readonly string[], names: readonly string[]): Promise<Map<string, Answer>> {
  const out = new Map<string, Answer>();
  for (let i = 0; i < keys.length; i += 100) {
    const found = await env.PROFILES.get(names.slice(i, i + 100), "json");
    keys.slice(i, i + 100).forEach((k, j) => {
      const answer = found.get(names[i + j]!) as Answer | null | undefined;
      if (answer) out.set(k, answer);
    });
  }
  return out;
}

function eventOf(e: StoredEnricher, item: EnrichItem, answer: Answer, id: string, now: number): StoredEvent {
  const at = new Date(now).toISOString();
  return {
    messageId: id,
    type: "identify",
    ...(item.userId ? { userId: item.userId } : {}),
    traits: answer.traits,
    context: {
      ...(item.userId ? {} : { traits: { email: item.email } }),
      enrichment: { enricher: e.id, key: item.key, status: answer.status, answeredAt: new Date(answer.at).toISOString() },
      enrichedBy: { traits: enricherSource(e.id) },
    },
    timestamp: at,
    receivedAt: at,
    sourceId: enricherSourceId(e.id),
  };
}

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
