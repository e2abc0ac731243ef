import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { MAX_PROCESSABLE_DEPTH } from "../../src/model/depth";
import type { EventPack, StoredEvent } from "../../src/model/events";
import { admin, brokenCustomer, eventually, profileWhen, uid } from "../helpers";

function event(partial: Partial<StoredEvent> & Pick<StoredEvent, "type">): StoredEvent {
  return { messageId: `msg-${crypto.randomUUID()}`, timestamp: new Date().toISOString(), receivedAt: new Date().toISOString(), sourceId: "key_test", ...partial };
}

function pack(events: StoredEvent[]): EventPack {
  return { v: 1, packId: `pk_${crypto.randomUUID()}`, receivedAt: new Date().toISOString(), sourceId: "key_test", events, rejected: [] };
}

async function runConsumer(messages: { id: string; timestamp: Date; attempts: number; body: unknown }[]) {
  const batch = createMessageBatch("rapport-events", messages);
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  return getQueueResult(batch, ctx);
}

const message = (body: unknown) => ({ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body });

async function deadLetter(id: string): Promise<Record<string, any>> {
  return eventually(async () => {
    const res = await admin(`/v1/admin/dead-letters/${encodeURIComponent(id)}`);
    return res.status === 200 ? ((await res.json()) as Record<string, any>) : null;
  }, `dead letter ${id}`);
}

describe("one bad event stays one bad event", () => {
  it("sets aside an event nested 3,000 levels deep alone, with its reason, and acknowledges its neighbours' pack", async () => {
    const neighbours = Array.from({ length: 5 }, () => uid("neighbour"));
    const good = neighbours.map((userId) => event({ type: "track", userId, event: "Viewed" }));
    const poisonId = `msg-deep-${crypto.randomUUID()}`;
    const body = pack([...good.slice(0, 2), event({ type: "track", userId: uid("deep"), event: "Deep", messageId: poisonId }), ...good.slice(2)]);
    // The pack as the queue carries it (text): the deep event's properties spliced in, since
    // JSON.stringify itself would overflow on them.
    const text = JSON.stringify(body).replace(`"messageId":"${poisonId}",`, `"messageId":"${poisonId}","properties":${'{"a":'.repeat(3_000)}1${"}".repeat(3_000)},`);
    const m = message(text);
    const result = await runConsumer([m]);
    expect(result.explicitAcks).toEqual([m.id]);
    expect(result.retryMessages).toEqual([]);
    for (const userId of neighbours) await profileWhen(userId, (p) => p.counters.events.Viewed === 1);

    const letter = await deadLetter(`${body.packId}/${poisonId}`);
    expect(letter.lastError).toContain(`nests deeper than ${MAX_PROCESSABLE_DEPTH} levels`);
    expect(letter.lastError).toMatch(/^too_deep: properties\.a\.a/);
    // Too deep to answer as JSON: kept as its text, one event alone, which replays as it is.
    expect(typeof letter.body).toBe("string");
    const kept = JSON.parse(letter.body) as EventPack;
    expect(kept.events.map((e) => e.messageId)).toEqual([poisonId]);
  });

  it("acknowledges the neighbours of an event that fails processing, and retries and dead-letters that event alone", async () => {
    const { userId: broken } = await brokenCustomer();
    const neighbours = Array.from({ length: 4 }, () => uid("fine"));
    const poisoned = event({ type: "track", userId: broken, event: "Poison" });
    const body = pack([event({ type: "identify", userId: neighbours[0]!, traits: { n: 0 } }), poisoned, ...neighbours.slice(1).map((userId, i) => event({ type: "identify", userId, traits: { n: i + 1 } }))]);
    const m = message(body);
    const result = await runConsumer([m]);
    // The message is acknowledged: its good events are done, the bad one travels on alone.
    expect(result.explicitAcks).toEqual([m.id]);
    expect(result.retryMessages).toEqual([]);
    for (const [i, userId] of neighbours.entries()) await profileWhen(userId, (p) => p.traits.n === i);

    // On the real queue, the failing event is retried alone, then dead-lettered alone with the error.
    const letter = await eventually(
      async () => {
        const list = (await (await admin("/v1/admin/dead-letters?status=pending&limit=100")).json()) as { items: Record<string, any>[] };
        return list.items.find((i) => i.body?.packId === `${body.packId}/${poisoned.messageId}`);
      },
      "the poisoned event's dead letter",
      20_000,
    );
    expect(letter.body.events.map((e: StoredEvent) => e.messageId)).toEqual([poisoned.messageId]);
    expect(letter.attempts).toBe(6);
    expect(letter.lastError).toBeTruthy();
  });
});
