/**
 * The jobs queue: background work fanned out in bounded pieces (today, catalog changes to the
 * customers who viewed a product). Each message is one job, retried with backoff on failure,
 * and after its retries kept in the dead-letter store for inspection and replay.
 */
import { isCatalogJob, runCatalogJob } from "../catalog/fanout";
import { readConfig } from "../config";
import { describeError, log } from "../log";
import { decodeOrSetAside } from "../pipeline/dead-letters";
import { retryDelaySeconds } from "../pipeline/retry";

export async function consumeJobs(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const base = readConfig(env).retryBaseDelaySeconds;
  await Promise.all(
    batch.messages.map(async (message) => {
      const job = await decodeOrSetAside(env, batch.queue, message, isCatalogJob);
      if (!job) return;
      try {
        await runCatalogJob(env, job);
        message.ack();
      } catch (err) {
        log("error", "job.failed", { kind: job.kind, attempts: message.attempts, ...describeError(err) });
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts, base) });
      }
    }),
  );
}
