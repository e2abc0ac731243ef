/**
 * The ground truth of a simulated shopper: what their messages up to `now` add up to, and what the
 * withheld window after `now` holds (whether they order, whether they come back at all), with the
 * planted look-alikes' pairs. Derived from the generated events, so it cannot disagree with them.
 */
import type { JourneyOutcome } from "./journey.ts";
import type { Timed } from "./messages.ts";
import type { Person } from "./people.ts";
import type { DuplicateVariant, NearMissKind } from "./variants.ts";

/** How to find a profile: by userId if it has one, else by anonymousId. */
export type Ref = { userId: string } | { anonymousId: string };

export interface CustomerTruth {
  id: string;
  userId: string | null;
  anonymousId: string;
  email: string | null;
  firstSeen: string;
  lastSeen: string;
  /** Orders and revenue (EUR) up to `now`. */
  orders: number;
  revenue: number;
  /** An `Order Completed` within the future window. */
  willPurchase30d: boolean;
  /** No activity (track, page) at all within the future window. */
  churned: boolean;
}

export interface DuplicateTruth {
  customer: string;
  a: Ref;
  b: Ref;
  variants: DuplicateVariant[];
}

export interface NearMissTruth {
  customer: string;
  kind: NearMissKind;
  a: Ref;
  b: Ref;
}

/** Activity as the models count it (models/training-set.ts): track and page calls; identify is not. */
const isActivity = (m: Timed["message"]) => m.type === "track" || m.type === "page";
const isOrder = (m: Timed["message"]) => m.type === "track" && m.event === "Order Completed";

export function customerTruth(id: string, own: JourneyOutcome, person: Person, now: number): CustomerTruth {
  const past = own.events.filter((e) => e.at <= now);
  const future = own.events.filter((e) => e.at > now);
  const orders = past.filter((e) => isOrder(e.message));
  const registered = past.some((e) => e.message.userId !== undefined);
  return {
    id,
    userId: registered ? own.userId : null,
    anonymousId: own.anonymousId,
    email: own.identifiedAt !== null && own.identifiedAt <= now ? person.email : null,
    firstSeen: new Date(past[0]!.at).toISOString(),
    lastSeen: new Date(past.findLast((e) => isActivity(e.message))!.at).toISOString(),
    orders: orders.length,
    revenue: Math.round(orders.reduce((s, e) => s + (e.message.properties as { revenue: number }).revenue, 0) * 100) / 100,
    willPurchase30d: future.some((e) => isOrder(e.message)),
    churned: !future.some((e) => isActivity(e.message)),
  };
}
