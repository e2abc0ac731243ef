import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import wranglerToml from "../../wrangler.toml?raw";
import worker from "../../src/index";
import { QUEUE_ROLES, queueName, queueRoles, roleOfQueue } from "../../src/queues/names";
import { eventQueueBinding, eventQueueTail } from "../../src/queues/event-queues";
import { admin, env, eventually, uid } from "../helpers";

/** wrangler.toml's sections: the top level (local) and each `[env.<name>]`, as text. */
function environments(): { name: string; text: string }[] {
  const parts = wranglerToml.split(/^\[env\.([a-z]+)\]$/m);
  const out = [{ name: "local", text: parts[0]! }];
  for (let i = 1; i < parts.length; i += 2) out.push({ name: parts[i]!, text: parts[i + 1]! });
  return out;
}

/** The queues an environment consumes: `queue = "…"` in `[[queues.consumers]]` blocks or a `consumers = [ … ]` list. */
function consumedQueues(text: string): string[] {
  const blocks = [...text.matchAll(/\[\[queues\.consumers\]\]\s*\nqueue = "([^"]+)"/g)].map((m) => m[1]!);
  const list = text.match(/consumers = \[([\s\S]*?)\n\]/)?.[1] ?? "";
  return [...blocks, ...[...list.matchAll(/\{ queue = "([^"]+)"/g)].map((m) => m[1]!)];
}

describe("queues by exact name", () => {
  it("dispatches every queue each environment of wrangler.toml consumes, and consumes every queue it dispatches", () => {
    const envs = environments();
    expect(envs.map((e) => e.name)).toEqual(["local", "staging", "production"]);
    for (const { name, text } of envs) {
      const suffix = text.match(/QUEUE_SUFFIX = "([^"]*)"/)?.[1];
      expect(suffix, `QUEUE_SUFFIX of ${name}`).toBeDefined();
      const eventQueues = text.match(/EVENT_QUEUES = "(\d+)"/)?.[1] ?? "1";
      // The deployment's own configuration decides the names (several events queues: EVENT_QUEUES).
      const deployed = { ...env, QUEUE_SUFFIX: suffix!, EVENT_QUEUES: eventQueues } as unknown as Env;
      // Every queue consumed has a role, every role and every events queue sent to is consumed.
      const consumed = consumedQueues(text);
      for (const queue of consumed) expect(roleOfQueue(deployed, queue), `${name}: ${queue}`).toBeDefined();
      expect(consumed, name).toEqual(expect.arrayContaining([...queueRoles(deployed).keys(), ...QUEUE_ROLES.map((role) => queueName(role, suffix!))]));
      // And each events queue has its producer (EVENTS, EVENTS_1 …): those sent to, and those consumed.
      const eventsQueues = Math.max(Number(eventQueues), consumed.filter((q) => roleOfQueue(deployed, q) === "events").length);
      for (let i = 0; i < eventsQueues; i++) {
        const producer = `binding = "${eventQueueBinding(i)}"`;
        const queue = `queue = "rapport-events${eventQueueTail(i)}${suffix}"`;
        expect(text.split(producer).slice(1).some((after) => after.trimStart().replace(/^,\s*/, "").startsWith(queue)), `${name}: ${producer} → ${queue}`).toBe(true);
      }
    }
  });

  it("retries a batch from a queue this deployment does not have, even one named like one of its own", async () => {
    // A prefix test took `rapport-events-old` for the events queue and acknowledged its message as undecodable.
    for (const queue of ["rapport-events-old", "rapport-jobs-staging", "other"]) {
      const batch = createMessageBatch(queue, [{ id: uid("m"), timestamp: new Date(), attempts: 1, body: "{}" }]);
      const ctx = createExecutionContext();
      await worker.queue(batch, env);
      const result = await getQueueResult(batch, ctx);
      expect(result.retryBatch.retry, queue).toBe(true);
      expect(result.explicitAcks, queue).toEqual([]);
    }
  });
});

describe("job messages", () => {
  it("keeps a job whose body breaks its schema as a dead letter that names the field, and runs the jobs beside it", async () => {
    const marker = uid("bad-job");
    const ctx = createExecutionContext();
    const batch = createMessageBatch("rapport-jobs", [
      { id: `${marker}-bad`, timestamp: new Date(), attempts: 1, body: { v: 1, kind: "segment_pass", runId: 42, after: "", marker } },
      { id: `${marker}-unknown`, timestamp: new Date(), attempts: 1, body: { v: 1, kind: "teleport", marker } },
      // A backfill page past every customer id: runs, finds nothing, and is acknowledged.
      { id: `${marker}-good`, timestamp: new Date(), attempts: 1, body: { v: 1, kind: "computed_backfill", after: "cus_~" } },
    ]);
    await worker.queue(batch, env);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual([`${marker}-bad`, `${marker}-good`, `${marker}-unknown`]);
    const letters = await eventually(async () => {
      const body = (await (await admin("/v1/admin/dead-letters?limit=500")).json()) as { items: { id: string; queue: string; lastError: string }[] };
      const mine = body.items.filter((d) => d.id.startsWith(marker));
      return mine.length === 2 && mine;
    }, "dead letters");
    const byId = Object.fromEntries(letters.map((l) => [l.id, l]));
    expect(byId[`${marker}-bad`]).toMatchObject({ queue: "rapport-jobs", lastError: expect.stringMatching(/^undecodable: not a job this version knows \(.*runId/) });
    expect(byId[`${marker}-unknown`]?.lastError).toMatch(/^undecodable: not a job this version knows/);
  });
});
