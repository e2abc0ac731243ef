/** A generic source's items as Rapport events, by the source's declared mappings. Pure. */
import type { Json, StoredEvent } from "../../model/events";
import { compare, valueAt } from "../../model/rules";
import type { SourceDefinition, Value } from "./definition";

type Mapped = { event: StoredEvent } | { unmappable: string };

function read(value: Value, item: unknown): unknown {
  if (typeof value !== "object") return value;
  const raw = valueAt(item, value.path);
  switch (value.as) {
    case undefined:
      return raw;
    case "string":
      return raw === undefined || raw === null ? undefined : String(raw);
    case "number": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
      return Number.isFinite(n) ? n : undefined;
    }
    case "boolean":
      return raw === true || raw === "true" || raw === 1 || raw === "1" ? true : raw === false || raw === "false" || raw === 0 || raw === "0" ? false : undefined;
    case "datetime": {
      const ms = typeof raw === "number" ? (raw < 1e12 ? raw * 1000 : raw) : typeof raw === "string" ? Date.parse(raw) : NaN;
      return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
    }
  }
}

/** A time, read as a date-time whatever `as` says (ISO text, or seconds or milliseconds since 1970). */
function datetimeOf(value: Value | undefined, item: unknown): string | undefined {
  if (value === undefined) return undefined;
  const v = read(typeof value === "object" ? { path: value.path, as: "datetime" } : value, item);
  if (typeof value === "object") return v as string | undefined;
  const ms = typeof v === "string" ? Date.parse(v) : NaN;
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

const text = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? v.trim() : typeof v === "number" ? String(v) : undefined);

function values(spec: Record<string, Value> | undefined, item: unknown): Json | undefined {
  if (!spec) return undefined;
  const out: Json = {};
  for (const [name, v] of Object.entries(spec)) {
    const value = read(v, item);
    if (value !== undefined && value !== null) out[name] = value;
  }
  return out;
}

export function mapItem(sourceId: string, definition: SourceDefinition, item: unknown, meta: { itemId: string; receivedAt: string }): Mapped {
  const rule = definition.mappings.find((m) => m.when.every((f) => compare(valueAt(item, f.property), f.op, f.value)));
  if (!rule) return { unmappable: "no mapping's `when` holds for this item" };
  const m = rule.message;
  const userId = m.userId !== undefined ? text(read(m.userId, item)) : undefined;
  const anonymousId = m.anonymousId !== undefined ? text(read(m.anonymousId, item)) : undefined;
  const email = m.email !== undefined ? text(read(m.email, item)) : undefined;
  const externalId = m.externalId ? text(read(m.externalId.value, item)) : undefined;
  if (!userId && !anonymousId && !email && !externalId) return { unmappable: "the item has none of the identifiers its mapping reads" };
  const event = m.type === "track" ? text(read(m.event!, item)) : undefined;
  if (m.type === "track" && !event) return { unmappable: "the item has no event name where its mapping reads one" };
  const timestamp = datetimeOf(m.timestamp, item);
  const updatedAt = datetimeOf(m.sourceUpdatedAt, item);
  const context: Json = {};
  if (email) context.traits = { email };
  if (externalId) context.externalIds = [{ id: externalId, type: m.externalId!.type, collection: "users", encoding: "none" }];
  if (typeof updatedAt === "string") context.sourceUpdatedAt = updatedAt;
  const at = typeof timestamp === "string" ? timestamp : meta.receivedAt;
  return {
    event: {
      messageId: `src:${sourceId}:${meta.itemId}`,
      type: m.type,
      ...(userId ? { userId } : {}),
      ...(anonymousId ? { anonymousId } : {}),
      ...(event ? { event } : {}),
      ...(m.type === "track" ? { properties: values(m.properties, item) ?? {} } : { traits: { ...(email ? { email } : {}), ...values(m.traits, item) } }),
      context,
      timestamp: at,
      receivedAt: meta.receivedAt,
      sourceId: `source:${sourceId}`,
    },
  };
}

/** The payload's items: the list at `items`, or the payload itself. */
export function itemsOf(definition: SourceDefinition, payload: unknown): unknown[] | null {
  if (!definition.items) return [payload];
  if (definition.items === "$") return Array.isArray(payload) ? payload : null;
  const list = valueAt(payload, definition.items);
  return Array.isArray(list) ? list : null;
}
