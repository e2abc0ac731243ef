/**
 * The profile as `GET /v1/customers/{id}` serves it and as the KV snapshot stores it.
 */
import { z } from "zod";
import type { Identity } from "../model/identity";
import type { ProfileState } from "./apply";
import { isoOrNull } from "../kernel/time";
import { computedView } from "./computed";
import { estimateSendTime } from "./send-time";
import { currentSegments, type Membership } from "../model/membership";
import { scoresView, type Scores } from "../model/scores";

const ProductFields = {
  productId: z.string(),
  sku: z.string().optional(),
  name: z.string().optional(),
  price: z.number().optional(),
  currency: z.string().optional(),
  category: z.string().optional(),
  brand: z.string().optional(),
  url: z.string().optional(),
  imageUrl: z.string().optional(),
};

/** The live session, kept by the customer's CustomerSession Durable Object. */
export const Session = z.object({
  current: z
    .object({
      id: z.string(),
      startedAt: z.string(),
      lastActivityAt: z.string(),
      expiresAt: z.string().describe("When the session ends without further activity"),
      events: z.number().int(),
      pageViews: z.number().int(),
      landingPage: z.string().nullable(),
      referrer: z.string().nullable(),
    })
    .nullable(),
  sessionCount: z.number().int(),
  lastActivityAt: z.string().nullable(),
  recentViews: z.array(z.object({ ...ProductFields, viewedAt: z.string() })).describe("Newest first"),
  cart: z.object({ items: z.array(z.object({ ...ProductFields, quantity: z.number().int(), addedAt: z.string() })), itemCount: z.number().int(), value: z.number(), updatedAt: z.string().nullable() }),
  lastOrderAt: z.string().nullable(),
  purchased: z.array(z.object({ ...ProductFields, purchasedAt: z.string() })).describe("Products ordered (Order Completed), newest first, one entry per product"),
  device: z.object({ userAgent: z.string().nullable(), type: z.string().nullable(), os: z.string().nullable(), locale: z.string().nullable() }).nullable(),
  page: z.object({ url: z.string().nullable(), path: z.string().nullable(), title: z.string().nullable(), referrer: z.string().nullable() }).nullable(),
  timeZone: z.string().nullable(),
});

export type Session = z.infer<typeof Session>;

export const CustomerProfile = z.object({
  id: z.string().describe("Master customer id"),
  userId: z.string().nullable().describe("The customer's userId, if known"),
  email: z.string().nullable(),
  phone: z.string().nullable().describe("E.164"),
  identities: z.object({
    userIds: z.array(z.string()),
    anonymousIds: z.array(z.string()),
    emails: z.array(z.string()),
    phones: z.array(z.string()),
    externalIds: z.array(z.object({ type: z.string(), id: z.string() })),
  }),
  traits: z.record(z.string(), z.unknown()).describe("Normalized; a value that could not be normalized is kept as sent and listed in traitIssues"),
  traitsUpdatedAt: z.record(z.string(), z.string()).describe("When each trait's value was written: the event time, or the record's update time when the source sent context.sourceUpdatedAt"),
  traitSources: z.record(z.string(), z.string()).describe("Traits whose value a third-party enricher supplied → the enricher (`enricher:<id>`); the customer's own values are not listed and always win"),
  traitIssues: z.record(z.string(), z.string()).describe("Trait name → why its value could not be normalized"),
  consent: z
    .object({ categoryPreferences: z.record(z.string(), z.boolean()), updatedAt: z.string() })
    .nullable()
    .describe("The latest context.consent.categoryPreferences, by event time"),
  counters: z.object({ types: z.record(z.string(), z.number()), events: z.record(z.string(), z.number()) }),
  eventCount: z.number().int(),
  firstSeenAt: z.string().nullable(),
  lastSeenAt: z.string().nullable(),
  computed: z
    .object({
      orderCount: z.number().int(),
      totalRevenue: z.record(z.string(), z.number()).describe('Per currency ("" when orders said none), major units'),
      averageOrderValue: z.record(z.string(), z.number()).describe("Per currency"),
      currency: z.string().nullable().describe("The currency with the most revenue"),
      firstOrderAt: z.string().nullable(),
      lastOrderAt: z.string().nullable(),
      engagementScore: z.number().describe("Event weights halved every 30 days, as of engagementAsOf"),
      engagementAsOf: z.string(),
      favouriteCategory: z.string().nullable(),
      favouriteBrand: z.string().nullable(),
    })
    .nullable()
    .describe("Built-in computed traits, kept up to date on every event; null for a profile stored before they existed, until its next event"),
  scores: z
    .object({
      purchasePropensity: z.number().nullable().describe("Chance of an order in the next 30 days"),
      churnRisk: z.number().nullable().describe("Chance of no activity in the next 30 days"),
      models: z.record(z.string(), z.number()).describe("Model name → the version that scored"),
      rfm: z
        .object({ recency: z.number().int(), frequency: z.number().int(), monetary: z.number().int(), code: z.string() })
        .nullable()
        .describe("Quintiles 1–5 (5 best) against everyone who has ordered; null before a first order"),
      historicalClv: z.number().nullable().describe("Revenue so far, main currency"),
      predictedClv: z.number().nullable().describe("Expected revenue in the next 12 months, main currency (docs/segments.md)"),
      clvCurrency: z.string().nullable(),
      asOf: z.string(),
    })
    .nullable()
    .describe("Scores as of the profile's last write: predictive models (once published with npm run train), RFM, lifetime value"),
  computedTraits: z.record(z.string(), z.unknown()).describe("Custom computed traits (/v1/computed-traits) as of the profile's last write"),
  experiments: z
    .record(z.string(), z.object({ variant: z.string(), exposedAt: z.string() }))
    .optional()
    .describe("Experiment id → the variant the customer was first shown (\"holdout\" for the holdout) and when; absent when none (docs/experiments.md)"),
  sendTime: z
    .object({
      bestHour: z.number().int().describe("The best hour to deliver email, 0–23, in timeZone"),
      timeZone: z.string().describe("The customer's IANA time zone (the latest events' context.timezone; UTC when unknown)"),
      confidence: z.number().describe("Share of the estimate within an hour of bestHour"),
      engagements: z.number().describe("The customer's own weighted opens, clicks and orders behind it (0: the population curve alone)"),
    })
    .describe("When the customer reads email (docs/engagement.md): shrunk towards the population curve while history is thin"),
  segments: z.array(z.string()).describe("Ids of the segments the customer is in, as of the profile's last evaluation (on every change, and daily for rules on time)"),
  session: Session.nullable().describe("The live session; null until the customer's session object has seen an event"),
  version: z.number().int(),
  updatedAt: z.string(),
  contentToken: z.string().optional().describe("What email content links carry to name this customer (t=…); derived from CONTENT_SECRETS, not stored"),
});
export type CustomerProfile = z.infer<typeof CustomerProfile>;


/** Where the document lists each kind of identifier, under `identities`. */
export const IDENTITY_LISTS = { user_id: "userIds", anonymous_id: "anonymousIds", email: "emails", phone: "phones", external: "externalIds" } as const satisfies Record<Identity["kind"], string>;

/** An external identifier's value (`<type>:<id>`) as the document lists it. */
function externalIdOf(value: string): { type: string; id: string } {
  const colon = value.indexOf(":");
  return { type: value.slice(0, colon), id: value.slice(colon + 1) };
}

/** An identifier as its list holds it. */
export const listedIdentity = (identity: Identity): string | { type: string; id: string } => (identity.kind === "external" ? externalIdOf(identity.value) : identity.value);

const identityValues = (identities: readonly Identity[], kind: Identity["kind"]) => identities.filter((i) => i.kind === kind).map((i) => i.value).sort();

/** How the customer can be reached: the profile's userId, email and phone, its traits and consent. */
export type Contact = Pick<CustomerProfile, "userId" | "email" | "phone" | "traits"> & { consent: Pick<NonNullable<CustomerProfile["consent"]>, "categoryPreferences"> | null };

/** The contact fields of the document `toDocument` would build, without building the rest. */
export function contactOf(state: ProfileState, identities: readonly Identity[]): Contact {
  const email = typeof state.traits.email === "string" && !state.traitIssues.email ? state.traits.email : (identityValues(identities, "email")[0] ?? null);
  const phone = typeof state.traits.phone === "string" && !state.traitIssues.phone ? state.traits.phone : (identityValues(identities, "phone")[0] ?? null);
  return { userId: identityValues(identities, "user_id")[0] ?? null, email, phone, traits: state.traits, consent: state.consent ? { categoryPreferences: state.consent.categoryPreferences } : null };
}

export function toDocument(id: string, state: ProfileState, identities: readonly Identity[], version: number, updatedAt: number, membership: Membership = {}, scores: Scores | null = null): CustomerProfile {
  const values = (kind: Identity["kind"]) => identityValues(identities, kind);
  const { userId, email, phone } = contactOf(state, identities);
  const externalIds = values("external").map(externalIdOf);
  return {
    id,
    userId,
    email,
    phone,
    identities: { userIds: values("user_id"), anonymousIds: values("anonymous_id"), emails: values("email"), phones: values("phone"), externalIds } satisfies Record<(typeof IDENTITY_LISTS)[Identity["kind"]], unknown>,
    traits: state.traits,
    traitsUpdatedAt: Object.fromEntries(Object.entries(state.traitTimes).map(([k, [ts]]) => [k, new Date(ts).toISOString()])),
    traitSources: Object.fromEntries(Object.entries(state.traitTimes).flatMap(([k, stamp]) => (stamp[2] !== undefined ? [[k, stamp[2]]] : []))),
    traitIssues: state.traitIssues,
    consent: state.consent ? { categoryPreferences: state.consent.categoryPreferences, updatedAt: new Date(state.consent.at[0]).toISOString() } : null,
    counters: state.counters,
    eventCount: state.eventCount,
    firstSeenAt: isoOrNull(state.firstSeenAt),
    lastSeenAt: isoOrNull(state.lastSeenAt),
    // The engagement score as of the document's own time: readers decay it from there.
    computed: state.computed ? computedView(state.computed, updatedAt) : null,
    scores: scoresView(scores),
    computedTraits: scores?.custom ?? {},
    ...(state.experiments ? { experiments: Object.fromEntries(Object.entries(state.experiments).map(([id, r]) => [id, { variant: r.variant, exposedAt: new Date(r.at).toISOString() }])) } : {}),
    sendTime: estimateSendTime(state.sendTime),
    segments: currentSegments(membership),
    session: null,
    version,
    updatedAt: new Date(updatedAt).toISOString(),
  };
}
