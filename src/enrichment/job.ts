/**
 * The enrichment job's parts (it runs in jobs/enrich.ts): the pipeline sends the customers an enricher should look up
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
import { sha256Hex } from "../kernel/crypto";
import type { StoredEvent } from "../model/events";
import { enricherSource, enricherSourceId } from "../model/events";
import type { EnrichItem, EnrichJob } from "../model/jobs";
import { listEnrichers, type StoredEnricher } from "./store";

export const MAX_ATTEMPTS = 6;
export const LOOKUPS_IN_FLIGHT = 6;
/** Queue messages are at most 128 KB: items travel in jobs of this many. */
export const ITEMS_PER_JOB = 400;

export function enrichJobs(enricherId: string, items: readonly EnrichItem[], attempt = 1): EnrichJob[] {
  const jobs: EnrichJob[] = [];
  for (let i = 0; i < items.length; i += ITEMS_PER_JOB) jobs.push({ v: 1, kind: "enrich", enricherId, items: items.slice(i, i + ITEMS_PER_JOB), attempt });
  return jobs;
}

export interface Answer {
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
export async function cached(env: Env, keys: readonly string[], names: readonly string[]): Promise<Map<string, Answer>> {
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

export function eventOf(e: StoredEnricher, item: EnrichItem, answer: Answer, id: string, now: number): StoredEvent {
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
