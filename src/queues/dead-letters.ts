/**
 * The dead-letter queue's consumer and the admin operations on it. Messages that exhausted their
 * retries arrive here; they are stored in D1 (with the last error the pipeline recorded) where
 * the admin API lists them and replays them onto the event queue. Replaying is safe: events are
 * deduplicated by messageId, so a replayed pack changes each profile at most once.
 */
import type { z } from "zod";
import { and, desc, eq, inArray, isNull, lt, sql } from "drizzle-orm";
import { database } from "../db/client";
import { deadLetters, packFailures } from "../db/schema";
import { runBatch, type Statement } from "../db/statements";
import { log } from "../kernel/log";
import { readConfig } from "../model/config";
import { identitiesOf } from "../identity/keys";
import { roleOfQueue } from "./names";
import { bodyValue, decodePack } from "./pack-decode";
import { jsonPrefix } from "../model/json-prefix";
import { MAX_PROCESSABLE_DEPTH, tooDeepAt } from "../model/depth";
import type { EventPack } from "../model/events";

export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = database(env.DB);
  const bodies = batch.messages.map((m) => bodyValue(m.body));
  const packIds = bodies.map(packIdOf).filter((id): id is string => id !== null);
  const failures = packIds.length > 0 ? await db.select().from(packFailures).where(inArray(packFailures.packId, packIds)).all() : [];
  const failureByPack = new Map(failures.map((f) => [f.packId, f]));
  const rows = batch.messages.map((m, i) => {
    const failure = failureByPack.get(packIdOf(bodies[i]) ?? "");
    // The DLQ counts its own deliveries from 1; the attempts on the event queue are the ones the
    // pipeline recorded with its last error.
    return { id: m.id, queue: batch.queue, body: bodyText(m.body), attempts: failure?.attempts ?? m.attempts, lastError: failure?.error ?? null, receivedAt: Date.now() };
  });
  await runBatch(env.DB, rows.map((r) => db.insert(deadLetters).values(r).onConflictDoNothing()));
  log("warn", "dlq.stored", { queue: batch.queue, messages: rows.length });
  batch.ackAll();
}

/**
 * The body of a queue message if it is what the consumer expects; otherwise the message is kept
 * as an undecodable dead letter, acknowledged (retrying cannot fix it), and null is returned.
 */
export async function decodeOrSetAside<T>(env: Env, queue: string, message: Message<unknown>, schema: z.ZodType<T>, what: string): Promise<T | null> {
  const result = schema.safeParse(bodyValue(message.body));
  if (result.success) return result.data;
  await recordUndecodable(env, queue, message, `undecodable: not ${what} (${firstIssue(result.error)})`);
  message.ack();
  return null;
}

/** `payload.trigger.id: expected string`: where a body first differs from its schema. */
function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "no detail";
  return issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message;
}

/** A message the consumer could not even decode goes straight here, with that reason. */
async function recordUndecodable(env: Env, queue: string, message: Message<unknown>, reason: string): Promise<void> {
  await database(env.DB)
    .insert(deadLetters)
    .values({ id: message.id, queue, body: bodyText(message.body), attempts: message.attempts, lastError: reason, receivedAt: Date.now() })
    .onConflictDoNothing();
  log("error", "pipeline.undecodable", { queue, messageId: message.id });
}

/**
 * Events the consumer set aside before processing (pipeline/screen.ts), each kept alone as a
 * pack of one event with the reason. Keyed by that pack's id, so a redelivered message keeps
 * each of them once.
 */
export async function recordSetAside(env: Env, queue: string, message: Message<unknown>, items: readonly { pack: EventPack; reason: string }[]): Promise<void> {
  const db = database(env.DB);
  const rows = items.map(({ pack, reason }) => db.insert(deadLetters).values({ id: pack.packId, queue, body: jsonPrefix(pack, MAX_DEAD_LETTER_BYTES).text, attempts: message.attempts, lastError: reason, receivedAt: Date.now() }).onConflictDoNothing());
  await runBatch(env.DB, rows);
  for (const { pack, reason } of items) log("error", "pipeline.event_set_aside", { queue, messageId: message.id, packId: pack.packId, reason });
}

/** Queue bodies are at most 128 KB; this bound only keeps a hand-made one from filling D1. */
const MAX_DEAD_LETTER_BYTES = 1024 * 1024;

/**
 * A message body as stored text: JSON text as it came (never parsed and written again, which
 * recurses), anything else serialized without recursion (pipeline/screen.ts explains why).
 */
function bodyText(body: unknown): string {
  if (typeof body === "string") {
    try {
      JSON.parse(body);
      return body;
    } catch {
      return JSON.stringify(body);
    }
  }
  return jsonPrefix(body ?? null, MAX_DEAD_LETTER_BYTES).text;
}

function packIdOf(body: unknown): string | null {
  const id = (body as { packId?: unknown } | null)?.packId;
  return typeof id === "string" ? id : null;
}

export interface DeadLetter {
  id: string;
  queue: string;
  attempts: number;
  lastError: string | null;
  receivedAt: string;
  replayedAt: string | null;
  body: unknown;
}

export async function listDeadLetters(d1: D1Database, opts: { limit: number; before?: number; pendingOnly?: boolean }): Promise<{ items: DeadLetter[]; next: number | null }> {
  const db = database(d1);
  const rows = await db
    .select()
    .from(deadLetters)
    .where(and(opts.before === undefined ? sql`1 = 1` : lt(deadLetters.receivedAt, opts.before), opts.pendingOnly ? isNull(deadLetters.replayedAt) : sql`1 = 1`))
    .orderBy(desc(deadLetters.receivedAt))
    .limit(opts.limit)
    .all();
  const items = rows.map(toDeadLetter);
  return { items, next: rows.length === opts.limit ? rows[rows.length - 1]!.receivedAt : null };
}

export async function getDeadLetter(d1: D1Database, id: string): Promise<DeadLetter | null> {
  const db = database(d1);
  const row = await db.select().from(deadLetters).where(eq(deadLetters.id, id)).get();
  return row ? toDeadLetter(row) : null;
}

/** The queue a dead letter came from (`rapport-jobs-dlq-staging` → JOBS), where replay puts it back. */
export function originQueue(env: Env, queue: string): Queue {
  // A letter kept before QUEUE_SUFFIX changed has another deployment's name: its prefix still says which queue.
  const role = roleOfQueue(env, queue) ?? queue.replace(/^rapport-/, "");
  if (role.startsWith("jobs")) return env.JOBS;
  if (role.startsWith("deliveries")) return env.DELIVERIES;
  return env.EVENTS;
}

/** Puts a dead letter back on the queue it came from and marks it replayed. */
export async function replayDeadLetter(env: Env, letter: DeadLetter): Promise<DeadLetter> {
  await originQueue(env, letter.queue).send(letter.body, { contentType: "json" });
  const replayedAt = Date.now();
  await database(env.DB).update(deadLetters).set({ replayedAt }).where(eq(deadLetters.id, letter.id));
  log("info", "dlq.replayed", { id: letter.id });
  return { ...letter, replayedAt: new Date(replayedAt).toISOString() };
}

/** Replays every pending dead letter, oldest last as listed, up to `limit`; returns them as replayed. */
export async function replayPending(env: Env, limit: number): Promise<DeadLetter[]> {
  const { items } = await listDeadLetters(env.DB, { limit, pendingOnly: true });
  const replayed: DeadLetter[] = [];
  for (const letter of items) replayed.push(await replayDeadLetter(env, letter));
  return replayed;
}

/**
 * The stored body as JSON, or as its text when it nests too deeply to be answered as JSON (an
 * event set aside for its depth): the text still replays as it is.
 */
function servableBody(text: string): unknown {
  const value = JSON.parse(text) as unknown;
  return tooDeepAt(value, MAX_PROCESSABLE_DEPTH) ? text : value;
}

function toDeadLetter(r: typeof deadLetters.$inferSelect): DeadLetter {
  return {
    id: r.id,
    queue: r.queue,
    attempts: r.attempts,
    lastError: r.lastError,
    receivedAt: new Date(r.receivedAt).toISOString(),
    replayedAt: r.replayedAt === null ? null : new Date(r.replayedAt).toISOString(),
    body: servableBody(r.body),
  };
}

/**
 * Erasure reaches dead letters too: every event of the erased identifiers (`keys`), and every
 * refused message whose raw text mentions one of their `values`, is taken out of the stored
 * packs. A pack left empty is deleted, as is a body that is not a pack and mentions a value (it
 * cannot be replayed anyway). Returns how many dead letters changed.
 */
export async function scrubDeadLetters(env: Env, keys: readonly string[], values: readonly string[]): Promise<number> {
  // Short values (a userId "42") would match unrelated text: raw text is searched for the longer
  // ones only, as the quarantine's erasure does; events are matched by their identifiers.
  const needles = values.filter((v) => v.length >= 6);
  const db = database(env.DB);
  const results = await db
    .select({ id: deadLetters.id, body: deadLetters.body })
    .from(deadLetters)
    .where(sql`EXISTS (SELECT 1 FROM json_each(${JSON.stringify(values)}) WHERE instr(${deadLetters.body}, value) > 0)`)
    .all();
  const erased = new Set(keys);
  const options = { defaultPhoneCountry: readConfig(env).defaultPhoneCountry };
  const statements: Statement[] = [];
  const remove = (id: string) => db.delete(deadLetters).where(eq(deadLetters.id, id));
  for (const row of results) {
    const pack = decodePack(row.body);
    if (!pack) {
      if (needles.some((v) => row.body.includes(v))) statements.push(remove(row.id));
      continue;
    }
    const events = pack.events.filter((e) => !identitiesOf(e, options).some((i) => erased.has(i.key)));
    const rejected = pack.rejected.filter((r) => !needles.some((v) => r.raw.includes(v)));
    if (events.length === pack.events.length && rejected.length === pack.rejected.length) continue;
    statements.push(
      events.length + rejected.length === 0
        ? remove(row.id)
        : db.update(deadLetters).set({ body: JSON.stringify({ ...pack, events, rejected }) }).where(eq(deadLetters.id, row.id)),
    );
  }
  await runBatch(env.DB, statements);
  return statements.length;
}
