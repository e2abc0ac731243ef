/**
 * A behavioural trigger, as the admin API accepts it and as recipe files are written: the event
 * that starts a timer, the events that cancel it, how long to wait, and what must hold when it
 * fires (profile conditions, a frequency cap, quiet hours, an expiry), then where it goes.
 */
import { z } from "zod";
import { privateHostReason } from "../kernel/outbound-url";
import { checkValueForOp, PropertyFilter } from "../model/rules";

/** What must hold on the customer's profile when the timer fires. */
export const Condition = z.union([
  z
    .object({
      trait: z.string().min(1).max(200),
      op: z.enum(["eq", "neq", "gt", "gte", "lt", "lte", "in", "exists", "not_exists", "contains"]),
      value: z.unknown().optional(),
    })
    .superRefine(checkValueForOp),
  z.object({
    consent: z.string().min(1).max(100).describe("A context.consent category, e.g. `marketing`"),
    /** `granted`: the customer said yes; `not_denied`: anything but an explicit no. */
    require: z.enum(["granted", "not_denied"]).default("granted"),
  }),
]);
export type Condition = z.infer<typeof Condition>;

const Duration = z
  .object({ minutes: z.number().min(0).max(525_600).default(0), hours: z.number().min(0).max(8_760).default(0), days: z.number().min(0).max(365).default(0) })
  .refine((d) => d.minutes + d.hours + d.days > 0, "must be longer than zero");
export const durationMs = (d: z.infer<typeof Duration>) => ((d.days * 24 + d.hours) * 60 + d.minutes) * 60_000;

const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM (24-hour)");

export const ANY_EVENT = "*";

export const TriggerDefinition = z
  .object({
    name: z.string().min(1).max(200),
    description: z.string().max(2_000).optional(),
    enabled: z.boolean().default(true),
    start: z.object({
      /**
       * A track event name, several (any of them starts the timer: `["Product Added",
       * "Checkout Started"]`), or `*` for any event of the customer (win-back: "no activity for …").
       */
      event: z.union([z.string().min(1).max(200), z.array(z.string().min(1).max(200)).min(1).max(20)]),
      where: z.array(PropertyFilter).max(20).default([]),
    }),
    /**
     * The starting event's property that identifies the item (`product_id`): one timer per value,
     * and with `cancel.sameKey` only an event about the same item cancels it. Without a key, one
     * timer per customer.
     */
    key: z.string().min(1).max(200).optional(),
    cancel: z
      .object({
        events: z.array(z.string().min(1).max(200)).min(1).max(20),
        /** Only a cancelling event carrying the same key value (in its properties or in `properties.products[]`) cancels. */
        sameKey: z.boolean().default(false),
      })
      .optional(),
    /** Another starting event while a timer waits: `restart` the wait (abandonment) or `keep` the first. */
    onRepeat: z.enum(["restart", "keep"]).default("restart"),
    wait: Duration,
    conditions: z.array(Condition).max(20).default([]),
    /**
     * Percent of customers held out of this trigger (0–50): they go through every check and are
     * recorded as fired, but nothing is sent, so the engagement report can show what the message
     * adds (docs/engagement.md, "Holdouts"). A customer is in or out of a trigger's holdout for good.
     */
    holdoutPercent: z.number().min(0).max(50).default(0),
    frequencyCap: z.object({ count: z.number().int().min(1).max(100), periodHours: z.number().min(1).max(8_760) }).optional(),
    /**
     * Deliver at the customer's best hour to read email (`sendTime.bestHour` of the profile, in
     * their time zone) when it comes within `withinHours` of the due time; otherwise at once. A
     * customer with fewer than `minEngagements` of their own opens, clicks and orders gets it at
     * once too (0: the population's best hour stands in for them). Quiet hours and caps still apply.
     */
    bestHour: z.object({ withinHours: z.number().min(1).max(72), minEngagements: z.number().min(0).max(100).default(0) }).optional(),
    /** No message between `start` and `end` in the customer's time zone: deferred to `end`, not skipped. */
    quietHours: z.object({ start: ClockTime, end: ClockTime, defaultTimeZone: z.string().default("UTC") }).optional(),
    expiry: z
      .object({
        /** The trigger stops creating and firing timers after this instant. */
        until: z.iso.datetime({ offset: true }).optional(),
        /** A timer that could not fire within this long of its due time is dropped (stale message). */
        maxLateHours: z.number().min(0).max(8_760).default(24),
      })
      .default({ maxLateHours: 24 }),
    destination: z.object({
      /** https to a public host; checked against the deployment's outbound policy when saved and before each call (http/outbound-url.ts). */
      url: z
        .url({ protocol: /^https?$/ })
        .max(2_000)
        .refine((u) => u.startsWith("https://") || privateHostReason(new URL(u).hostname.replace(/\.+$/, "")) !== null, "must be https (plain http only to a local host, where ALLOW_PRIVATE_OUTBOUND allows one)"),
      /** `rapport`: the documented signed JSON; the ESP formats reshape it for their event APIs. */
      format: z.enum(["rapport", "braze", "klaviyo", "customerio"]).default("rapport"),
      /**
       * Credentials an ESP's API wants, read from a Worker secret by name (never stored in D1):
       * `bearer` (Braze), `klaviyo` (`Klaviyo-API-Key …`), `basic` (Customer.io `site_id:api_key`).
       */
      auth: z.object({ scheme: z.enum(["bearer", "klaviyo", "basic"]), secret: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, "must name a Worker secret (UPPER_SNAKE_CASE)") }).optional(),
    }),
  })
  .refine((t) => !t.cancel?.sameKey || t.key, { message: "cancel.sameKey needs a key", path: ["cancel", "sameKey"] })
  .refine((t) => isTimeZone(t.quietHours?.defaultTimeZone ?? "UTC"), { message: "unknown IANA time zone", path: ["quietHours", "defaultTimeZone"] });
export type TriggerDefinition = z.infer<typeof TriggerDefinition>;
export type TriggerDefinitionInput = z.input<typeof TriggerDefinition>;

/** The event names that start a trigger's timers. */
export const startEvents = (definition: TriggerDefinition): string[] => (typeof definition.start.event === "string" ? [definition.start.event] : definition.start.event);

export const TriggerId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "must be 1–64 lower-case letters, digits, - or _");

/** A stored trigger: its definition and the version that definition is. */
export interface Trigger {
  id: string;
  version: number;
  definition: TriggerDefinition;
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
