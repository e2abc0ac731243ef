/**
 * The event queue consumer. A batch is processed as a whole (one D1 transaction, one snapshot per
 * customer); if that fails, each message is processed alone, and a message that fails alone is
 * processed event by event: its events that succeed are done, and each one that fails is sent
 * back to the queue as a pack of its own, to be retried (with exponential backoff) and, after
 * `max_retries`, dead-lettered alone with its reason. One bad event never takes another
 * customer's events with it. Events no retry can fix (nested too deeply) are dead-lettered at
 * once. Messages are acknowledged one by one.
 */
import { activeMove } from "../db/slot-moves";
import { database } from "../db/client";
import { packFailures } from "../db/schema";
import { rowsWritten, runBatch } from "../db/statements";
import type { EventPack } from "../model/events";
import { readConfig } from "../model/config";
import { describeError, log } from "../kernel/log";
import { decodeOrSetAside, recordSetAside } from "../queues/dead-letters";
import { EventPackSchema } from "../queues/pack-decode";
import { processEvents, type ProcessStats } from "./process";
import { quarantineStatements } from "../tracking/quarantine";
import { violationStatements } from "../tracking/violations";
import { retryDelaySeconds } from "../queues/retry";
import { archivePacks } from "../archive/writer";
import { REPLAY_SOURCE } from "../archive/replay";
import { packOfOne, screenPack } from "./screen";
import { figuresOf, recordMinute } from "./minutes";

/** How long a batch waits while slots move between shards. */
const SLOT_MOVE_WAIT_SECONDS = 120;

type Decoded = { message: Message<unknown>; pack: EventPack };

export async function consumeEvents(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const started = Date.now();
  const config = readConfig(env);
  const decoded: Decoded[] = [];
  for (const message of batch.messages) {
    // Retrying cannot fix a body we do not understand: it is kept as a dead letter at once.
    const pack = await decodeOrSetAside(env, batch.queue, message, EventPackSchema, "an event pack of version 1");
    if (!pack) continue;
    const screened = screenPack(pack);
    if (screened.setAside.length > 0) await recordSetAside(env, batch.queue, message, screened.setAside.map((s) => ({ pack: packOfOne(pack, s.event), reason: s.reason })));
    decoded.push({ message, pack: screened.pack });
  }
  if (decoded.length === 0) return;
  // Slots moving between shards: nothing may write their profiles (db/slot-moves.ts). The batch
  // comes back later; `npm run shards:move` pauses delivery, so this is the safety net.
  if (await activeMove(env)) {
    log("info", "pipeline.waiting_for_slot_move", { queueMessages: decoded.length });
    for (const d of decoded) d.message.retry({ delaySeconds: SLOT_MOVE_WAIT_SECONDS });
    return;
  }

  try {
    const stats = await processPacks(env, decoded);
    for (const d of decoded) d.message.ack();
    await recordBatch(env, stats, decoded, started);
    return;
  } catch (err) {
    if (decoded.length === 1) {
      await isolateEvents(env, decoded[0]!, err, config.retryBaseDelaySeconds, started);
      return;
    }
    log("warn", "pipeline.batch_failed_isolating", { queueMessages: decoded.length, ...describeError(err) });
  }
  for (const d of decoded) {
    try {
      // The failed attempt may have committed to D1 before failing (in the session objects, say):
      // treated as redelivered, so that its events still reach them.
      const stats = await processPacks(env, [d], true);
      d.message.ack();
      await recordBatch(env, stats, [d], started);
    } catch (err) {
      await isolateEvents(env, d, err, config.retryBaseDelaySeconds, started);
    }
  }
}

/**
 * A message that failed alone. With one event (or none), it is retried as it is. With several,
 * its refused messages are kept, then its events are processed one by one, in order: each one
 * that fails goes back to the queue as a pack of its own (packOfOne), and the message is
 * acknowledged. If even that cannot be done (D1 or the queue is down), the whole message is
 * retried: nothing counts twice, events are deduplicated by messageId.
 */
async function isolateEvents(env: Env, item: Decoded, err: unknown, baseDelay: number, started: number): Promise<void> {
  const { message, pack } = item;
  if (pack.events.length <= 1) return retry(env, item, err, baseDelay);
  log("warn", "pipeline.message_failed_isolating_events", { packId: pack.packId, events: pack.events.length, ...describeError(err) });
  const failed: { pack: EventPack; error: unknown }[] = [];
  try {
    if (pack.rejected.length > 0 || (pack.violations?.length ?? 0) > 0) await processPacks(env, [{ message, pack: { ...pack, events: [] } }], true);
    for (const event of pack.events) {
      const one = { message, pack: packOfOne(pack, event) };
      try {
        await recordBatch(env, await processPacks(env, [one], true), [one], started);
      } catch (eventErr) {
        failed.push({ pack: one.pack, error: eventErr });
      }
    }
    if (failed.length > 0) {
      const delaySeconds = retryDelaySeconds(message.attempts, baseDelay);
      await Promise.all(failed.map((f) => recordFailure(env, f.pack.packId, f.error, 1)));
      await env.EVENTS.sendBatch(failed.map((f) => ({ body: JSON.stringify(f.pack), contentType: "text" as const, delaySeconds })));
      for (const f of failed) log("error", "pipeline.event_failed", { packId: f.pack.packId, from: pack.packId, messageId: f.pack.events[0]!.messageId, delaySeconds, ...describeError(f.error) });
    }
  } catch (isolationErr) {
    return retry(env, item, isolationErr, baseDelay);
  }
  message.ack();
}

async function processPacks(env: Env, items: Decoded[], afterFailure = false): Promise<ProcessStats> {
  const rejected = items.flatMap(({ pack }) => pack.rejected.map((item) => ({ item, sourceId: pack.sourceId, receivedAt: Date.parse(pack.receivedAt) })));
  // Refused messages and tracking-plan violations: kept before the events are processed,
  // idempotently (a redelivered pack inserts nothing twice).
  const violations = items.flatMap(({ pack }) => pack.violations ?? []);
  let quarantineRows = 0;
  if (rejected.length > 0 || violations.length > 0) {
    const statements = [...quarantineStatements(env.DB, rejected), ...violationStatements(env.DB, violations)];
    quarantineRows = rowsWritten(await runBatch(env.DB, statements));
  }
  const events = items.flatMap(({ pack }) => pack.events);
  const redelivered = afterFailure || items.some(({ message }) => message.attempts > 1);
  // The raw archive is written alongside, as soon as the pipeline knows which events it drops as
  // an erased customer's (their archived events were scrubbed; late ones must not come back).
  // A failure of either retries the messages, and the retry skips what was processed.
  const archived = items.map((i) => i.pack).filter((p) => p.sourceId !== REPLAY_SOURCE);
  let suppressionKnown!: (messageIds: ReadonlySet<string>) => void;
  const dropped = new Promise<ReadonlySet<string>>((resolve) => (suppressionKnown = resolve));
  const [stats] = await Promise.all([
    // (Had it not said, which it always does, the archive would still be written, not wait forever.)
    processEvents(env, events, { redelivered, onSuppressed: suppressionKnown }).then((stats) => {
      suppressionKnown(new Set());
      return stats;
    }),
    dropped.then((ids) => archivePacks(env.ARCHIVE, ids.size === 0 ? archived : archived.map((p) => ({ ...p, events: p.events.filter((e) => !ids.has(e.messageId)) })))),
  ]);
  stats.d1RowsWritten += quarantineRows;
  return stats;
}

async function retry(env: Env, { message, pack }: Decoded, err: unknown, baseDelay: number): Promise<void> {
  const delaySeconds = retryDelaySeconds(message.attempts, baseDelay);
  log("error", "pipeline.message_failed", { packId: pack.packId, attempts: message.attempts, delaySeconds, ...describeError(err) });
  await recordFailure(env, pack.packId, err, message.attempts);
  message.retry({ delaySeconds });
}

/** Remembered so that the dead-letter entry can say why, if the retries run out. */
async function recordFailure(env: Env, packId: string, err: unknown, attempts: number): Promise<void> {
  const { error } = describeError(err);
  try {
    await database(env.DB)
      .insert(packFailures)
      .values({ packId, error, attempts, updatedAt: Date.now() })
      .onConflictDoUpdate({ target: packFailures.packId, set: { error, attempts, updatedAt: Date.now() } });
  } catch (recordErr) {
    log("warn", "pipeline.failure_not_recorded", { packId, ...describeError(recordErr) });
  }
}

/**
 * One line per batch: what it cost (rows, KV writes) and how fresh it was (ms since ingest); and
 * its figures added to the minute's (pipeline/minutes.ts: the console's charts, the alerts).
 */
async function recordBatch(env: Env, stats: ProcessStats, items: Decoded[], started: number): Promise<void> {
  const now = Date.now();
  const packAgesMs = items.map(({ pack }) => now - Date.parse(pack.receivedAt));
  // The minute's row is written first, so that the line's rows count it too (what the benchmark bills).
  const minuteRows = await recordMinute(env.DB, figuresOf(stats, items.map((i) => i.pack), started, now));
  log("info", "pipeline.batch", { queueMessages: items.length, ...stats, d1RowsWritten: stats.d1RowsWritten + minuteRows, ms: now - started, packAgesMs });
}
