import type { StoredEvent } from "../src/model/events";
import { admin, eventually, ownerOf } from "./helpers";

export const DAY = 86_400_000;

export const event = (userId: string, p: Partial<StoredEvent> & Pick<StoredEvent, "type">, at = Date.now()): StoredEvent => ({
  messageId: crypto.randomUUID(),
  userId,
  timestamp: new Date(at).toISOString(),
  receivedAt: new Date().toISOString(),
  sourceId: "key_test",
  ...p,
});
export const trackAt = (userId: string, name: string, properties: Record<string, unknown>, at = Date.now()) => event(userId, { type: "track", event: name, properties }, at);
export const identifyAt = (userId: string, traits: Record<string, unknown>, at = Date.now()) => event(userId, { type: "identify", traits }, at);

export async function putSegment(id: string, definition: { name?: string; enabled?: boolean; rule: object }, headers: Record<string, string> = {}): Promise<Response> {
  return admin(`/v1/segments/${id}`, { method: "PUT", body: JSON.stringify({ name: id, ...definition }), headers });
}

/** Saves a segment and waits for the evaluation pass it starts to finish. */
export async function saveSegmentAndWait(id: string, definition: { name?: string; enabled?: boolean; rule: object }): Promise<Record<string, any>> {
  const res = await putSegment(id, definition);
  if (res.status >= 300) throw new Error(`PUT /v1/segments/${id}: ${res.status} ${await res.text()}`);
  const saved = (await res.json()) as Record<string, any>;
  if (saved.runId) await runFinished(saved.runId);
  return saved;
}

/** Waits for a pass to finish, or for the later pass that superseded it. */
export async function runFinished(runId: string): Promise<Record<string, any>> {
  const run = await eventually(async () => {
    const r = (await (await admin(`/v1/segments/runs/${runId}`)).json()) as Record<string, any>;
    return r.finishedAt ? r : null;
  }, `evaluation run ${runId}`, 20_000);
  return run.supersededBy ? runFinished(run.supersededBy) : run;
}

export async function customerIdOf(userId: string): Promise<string> {
  return (await ownerOf(`user_id:${userId}`))!;
}

export async function membersOf(segmentId: string): Promise<string[]> {
  const body = (await (await admin(`/v1/segments/${segmentId}/members?limit=1000`)).json()) as { members: { customerId: string }[] };
  return body.members.map((m) => m.customerId);
}
