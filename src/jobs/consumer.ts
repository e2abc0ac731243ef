/**
 * The jobs queue: background work fanned out in bounded pieces: catalog changes to the customers
 * who viewed a product, the computed-traits backfill, segment evaluation passes, archive replays
 * and erasures, third-party enrichment lookups. Each message is one job (`model/jobs.ts`), checked
 * against its schema, retried with backoff on failure, and after its retries kept in the
 * dead-letter store for inspection and replay.
 */
import { runCatalogJob } from "./catalog-fanout";
import { runBackfillJob } from "./computed-backfill";
import { runPassJob } from "./segment-pass";
import { runReplayJob } from "../archive/replay";
import { runScrubJob } from "../archive/scrub";
import { runEnrichJob } from "./enrich";
import { runMoveJob } from "./slot-move";
import { activeMove } from "../db/slot-moves";
import { readConfig } from "../model/config";
import { Job } from "../model/jobs";
import { describeError, log } from "../kernel/log";
import { decodeOrSetAside } from "../queues/dead-letters";
import { retryDelaySeconds } from "../queues/retry";

/** Each kind of job and what runs it: a new kind fails the type check until it has a handler. */
async function runJob(env: Env, job: Job): Promise<unknown> {
  switch (job.kind) {
    case "catalog_fanout":
    case "catalog_notify":
      return runCatalogJob(env, job);
    case "computed_backfill":
      return runBackfillJob(env, job);
    case "segment_pass":
      return runPassJob(env, job);
    case "archive_replay":
      return runReplayJob(env, job);
    case "archive_scrub":
      return runScrubJob(env, job);
    case "enrich":
      return runEnrichJob(env, job);
    case "slot_move":
      return runMoveJob(env, job);
  }
}

/** Jobs that write profiles wait while slots move between shards (maintenance/slot-move.ts). */
const WRITES_PROFILES: ReadonlySet<Job["kind"]> = new Set(["computed_backfill", "segment_pass", "enrich", "archive_replay"]);
const MOVE_WAIT_SECONDS = 60;

export async function consumeJobs(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const base = readConfig(env).retryBaseDelaySeconds;
  await Promise.all(
    batch.messages.map(async (message) => {
      const job = await decodeOrSetAside(env, batch.queue, message, Job, "a job this version knows");
      if (!job) return;
      if (WRITES_PROFILES.has(job.kind) && (await activeMove(env))) return message.retry({ delaySeconds: MOVE_WAIT_SECONDS });
      try {
        await runJob(env, job);
        message.ack();
      } catch (err) {
        log("error", "job.failed", { kind: job.kind, attempts: message.attempts, ...describeError(err) });
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts, base) });
      }
    }),
  );
}
