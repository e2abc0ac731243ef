/**
 * A declared source's webhook: verified by the source's own signature or token (no API key), its
 * items mapped to Segment events by the source's rules. A bad signature gets 401 and nothing is
 * kept; a body that is not JSON, nests too deep or has no list where the items should be is
 * quarantined whole; an item no mapping applies to is quarantined alone; the rest go on the
 * event queue.
 */
import type { Context } from "hono";
import type { AppEnv } from "../../api/context";
import { enqueue, rejection } from "../../ingest/accept";
import { sha256Hex } from "../../kernel/crypto";
import { ApiError } from "../../kernel/errors";
import { fieldPath } from "../../kernel/field-errors";
import { readBodyBytes } from "../../kernel/request-body";
import { MAX_NESTING_DEPTH, tooDeepAt } from "../../model/depth";
import type { RejectedMessage, StoredEvent } from "../../model/events";
import { parseJsonExact } from "../../model/exact-json";
import { valueAt } from "../../model/rules";
import type { SourceDefinition } from "./definition";
import { itemsOf, mapItem } from "./mapping";
import { getSource, type StoredSource } from "./store";
import { missingSecrets, verifySourceRequest } from "./verify";

const MAX_BODY_BYTES = 1024 * 1024;

export async function receiveWebhook(c: Context<AppEnv>, id: string): Promise<Response> {
  const { source, body } = await verifiedRequest(c, id);
  const receivedAt = new Date();
  const ctx = { receivedAt, sourceId: `source:${source.id}` };
  const endpoint = `/v1/sources/${source.id}/webhook`;
  const text = new TextDecoder().decode(body);
  const quarantineWhole = async (reason: string, field: string, message: string) => {
    await enqueue(c.env, [], [rejection(endpoint, reason, [{ field, message }], text)], ctx, c.get("requestId"));
    return c.json({ success: true, accepted: 0, quarantined: 1 });
  };
  let payload: unknown;
  try {
    payload = parseJsonExact(text);
  } catch {
    return quarantineWhole("invalid_json", "(body)", "must be JSON");
  }
  const tooDeep = tooDeepAt(payload, MAX_NESTING_DEPTH);
  if (tooDeep) return quarantineWhole("too_deep", fieldPath(tooDeep), `nests deeper than ${MAX_NESTING_DEPTH} levels`);
  const items = itemsOf(source.definition, payload);
  if (!items) return quarantineWhole("unmappable", source.definition.items!, "is not a list in this payload");
  const { events, rejected } = await mapItems(source, items, endpoint, receivedAt);
  const queued = await enqueue(c.env, events, rejected, ctx, c.get("requestId"));
  return c.json({ success: true, accepted: queued.accepted, quarantined: rejected.length + queued.quarantined });
}

/** The source and the body as sent, once its signature or token verifies. */
async function verifiedRequest(c: Context<AppEnv>, id: string): Promise<{ source: StoredSource; body: Uint8Array }> {
  const source = await getSource(c.env.DB, id);
  if (!source) throw new ApiError("not_found", `No source ${id}`);
  const body = await readBodyBytes(c.req.raw, MAX_BODY_BYTES, "source webhook");
  // Nothing could verify: the operator's mistake, not the sender's (who would otherwise be told
  // its signature is wrong).
  const unset = missingSecrets(c.env, source.definition.signature.secretNames);
  if (unset.length === source.definition.signature.secretNames.length) {
    throw new ApiError("not_configured", `Source ${source.id}: secret not configured (${unset.join(", ")}); set it with \`wrangler secret put\` (or in .dev.vars locally)`);
  }
  if (!(await verifySourceRequest(c.env, source.definition.signature, body, (h) => c.req.header(h)))) {
    throw new ApiError("unauthorized", `The request's ${source.definition.signature.header} does not verify with the secrets of source ${source.id}`);
  }
  return { source, body };
}

/** Each item mapped to an event, or refused with the reason no mapping applies. */
async function mapItems(source: { id: string; definition: SourceDefinition }, items: readonly unknown[], endpoint: string, receivedAt: Date): Promise<{ events: StoredEvent[]; rejected: RejectedMessage[] }> {
  const events: StoredEvent[] = [];
  const rejected: RejectedMessage[] = [];
  for (const [i, item] of items.entries()) {
    // The item's own id when the source has one (retries count once), else its content.
    const declared = source.definition.id ? valueAt(item, source.definition.id.path) : undefined;
    const itemId = typeof declared === "string" || typeof declared === "number" ? String(declared) : (await sha256Hex(JSON.stringify(item))).slice(0, 32);
    const mapped = mapItem(source.id, source.definition, item, { itemId, receivedAt: receivedAt.toISOString() });
    if ("event" in mapped) events.push(mapped.event);
    else rejected.push(rejection(endpoint, "unmappable", [{ field: source.definition.items ? `${source.definition.items}[${i}]` : "(body)", message: mapped.unmappable }], item));
  }
  return { events, rejected };
}
