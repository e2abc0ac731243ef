/**
 * The jobs queue: background work fanned out in bounded pieces: catalog changes to the customers
 * who viewed a product, the computed-traits backfill, segment evaluation passes, archive replays
 * and erasures, third-party enrichment lookups. Each message is one job, retried with backoff on failure,
 * and after its retries kept in the dead-letter store for inspection and replay.
 */
import { isCatalogJob, runCatalogJob, type CatalogJob } from "../catalog/fanout";
import { isBackfillJob, runBackfillJob, type BackfillJob } from "../segments/backfill";
import { isPassJob, runPassJob, type PassJob } from "../segments/pass";
import { isReplayJob, runReplayJob, type ReplayJob } from "../archive/replay";
import { isScrubJob, runScrubJob, type ScrubJob } from "../archive/scrub";
import { isEnrichJob, runEnrichJob, type EnrichJob } from "../enrichment/job";
import { readConfig } from "../model/config";
import { describeError, log } from "../kernel/log";
import { decodeOrSetAside } from "../pipeline/dead-letters";
import { retryDelaySeconds } from "../pipeline/retry";

const isJob = (body: unknown): body is CatalogJob | BackfillJob | PassJob | ReplayJob | ScrubJob | EnrichJob =>
  isCatalogJob(body) || isBackfillJob(body) || isPassJob(body) || isReplayJob(body) || isScrubJob(body) || isEnrichJob(body);

export async function consumeJobs(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const base = readConfig(env).retryBaseDelaySeconds;
  await Promise.all(
    batch.messages.map(async (message) => {
      const job = await decodeOrSetAside(env, batch.queue, message, isJob);
      if (!job) return;
      try {
        if (isBackfillJob(job)) await runBackfillJob(env, job);
        else if (isPassJob(job)) await runPassJob(env, job);
        else if (isReplayJob(job)) await runReplayJob(env, job);
        else if (isScrubJob(job)) await runScrubJob(env, job);
        else if (isEnrichJob(job)) await runEnrichJob(env, job);
        else await runCatalogJob(env, job);
        message.ack();
      } catch (err) {
        log("error", "job.failed", { kind: job.kind, attempts: message.attempts, ...describeError(err) });
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts, base) });
      }
    }),
  );
}
