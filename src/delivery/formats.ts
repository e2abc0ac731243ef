/**
 * The body and headers a destination receives. `rapport` is our signed JSON; the ESP formats
 * reshape the same payload into what each ESP's event API expects, so a trigger can call it
 * directly (docs/triggers.md shows the URLs):
 *
 * - braze: `POST /users/track` with `events[]` (external_id, or email when there is no userId)
 * - klaviyo: `POST /api/events` (JSON:API, `revision` header, `unique_id` = delivery id)
 * - customerio: Track API v2 `POST /api/v2/entity` (person event, identified by id or email)
 */
import type { TriggerFiredPayload } from "../triggers/delivery-message";
import type { TriggerDefinition } from "../triggers/definition";

export const KLAVIYO_REVISION = "2024-10-15";

type Destination = TriggerDefinition["destination"];

/** The event name an ESP sees: `rapport.<trigger id>`, so campaigns can start on it. */
const eventName = (p: TriggerFiredPayload) => `rapport.${p.trigger.id}`;

/** The properties ESP templates use: trigger, items, cart, recently viewed. */
function properties(p: TriggerFiredPayload) {
  return {
    trigger_id: p.trigger.id,
    trigger_version: p.trigger.version,
    delivery_id: p.id,
    items: p.items,
    cart: p.customer.session?.cart ?? null,
    recently_viewed: p.customer.session?.recentViews ?? [],
    started_by: p.startedBy,
    rapport_customer_id: p.customer.id,
    // For content block URLs in the message: /v1/content/<block>.html?t=<content_token>
    content_token: p.customer.contentToken ?? null,
  };
}

export function formatBody(destination: Destination, p: TriggerFiredPayload): { body: string; contentType: string; headers: Record<string, string> } {
  const userId = p.customer.userId;
  const email = p.customer.email;
  switch (destination.format) {
    case "rapport":
      return { body: JSON.stringify(p), contentType: "application/json", headers: {} };
    case "braze":
      return {
        body: JSON.stringify({ events: [{ ...(userId ? { external_id: userId } : { email }), name: eventName(p), time: p.firedAt, properties: properties(p) }] }),
        contentType: "application/json",
        headers: {},
      };
    case "klaviyo":
      return {
        body: JSON.stringify({
          data: {
            type: "event",
            attributes: {
              properties: properties(p),
              time: p.firedAt,
              unique_id: p.id,
              metric: { data: { type: "metric", attributes: { name: eventName(p) } } },
              profile: { data: { type: "profile", attributes: { ...(email ? { email } : {}), ...(userId ? { external_id: userId } : {}) } } },
            },
          },
        }),
        contentType: "application/vnd.api+json",
        headers: { revision: KLAVIYO_REVISION, accept: "application/vnd.api+json" },
      };
    case "customerio":
      return {
        body: JSON.stringify({ type: "person", identifiers: userId ? { id: userId } : { email }, action: "event", name: eventName(p), id: p.id, timestamp: Math.floor(Date.parse(p.firedAt) / 1000), attributes: properties(p) }),
        contentType: "application/json",
        headers: {},
      };
  }
}

/** The Authorization header of a destination, from the Worker secret it names. */
export function authorization(destination: Destination, env: Env): string | null {
  const auth = destination.auth;
  if (!auth) return null;
  const secret = (env as unknown as Record<string, unknown>)[auth.secret];
  if (typeof secret !== "string" || secret === "") throw new Error(`Worker secret ${auth.secret} (destination credentials) is not set`);
  switch (auth.scheme) {
    case "bearer":
      return `Bearer ${secret}`;
    case "klaviyo":
      return `Klaviyo-API-Key ${secret}`;
    case "basic":
      return `Basic ${btoa(secret)}`;
  }
}
