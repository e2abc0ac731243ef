/**
 * What an email's links may say about the message they are in: the ESP's message id (`m`),
 * Rapport's delivery id of a triggered message (`d`) and the trigger (`tr`). Optional and not
 * signed: they name no customer, only what was opened or clicked, and the engagement reports count
 * by them (docs/engagement.md). Over-long values are ignored.
 */
export interface MessageRefs {
  messageId?: string;
  deliveryId?: string;
  triggerId?: string;
}

const MAX = 200;
const ok = (v: string | undefined): v is string => typeof v === "string" && v.length > 0 && v.length <= MAX;

export function messageRefsOf(query: Record<string, string>): MessageRefs {
  return { ...(ok(query.m) ? { messageId: query.m } : {}), ...(ok(query.d) ? { deliveryId: query.d } : {}), ...(ok(query.tr) ? { triggerId: query.tr } : {}) };
}

/** The refs as the properties of `Email Opened` / `Email Link Clicked` (Segment's email spec names). */
export function messageProperties(r: MessageRefs): Record<string, string> {
  return { ...(r.messageId ? { email_id: r.messageId } : {}), ...(r.deliveryId ? { delivery_id: r.deliveryId } : {}), ...(r.triggerId ? { trigger_id: r.triggerId } : {}) };
}
