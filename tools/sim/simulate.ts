/**
 * The traffic simulator (`npx rapport simulate`, docs/simulate.md): a storefront's shoppers over
 * `days` days before `now`, as Segment messages, with the ground truth of what the messages do
 * not say: who buys and who is gone in the `futureDays` after `now` (simulated, then withheld),
 * and which profiles are planted duplicates or near misses of each other.
 *
 * `simulate` yields one shopper at a time, with the look-alikes planted beside them, so a caller
 * can stream any number of them in constant memory. Shopper i draws from its own random stream,
 * so the output is the same for the same options, and shopper i is the same shopper whatever the
 * number of shoppers. Pure: no clock, no I/O.
 */
import { journey, guestVisit } from "./journey.ts";
import type { SimMessage, Timed } from "./messages.ts";
import { newPerson } from "./people.ts";
import { mix, Rng } from "./random.ts";
import { ArrivalDays, DAY_MS } from "./season.ts";
import { customerTruth, type CustomerTruth, type DuplicateTruth, type NearMissTruth, type Ref } from "./truth.ts";
import { duplicateOf, lookalikeOf } from "./variants.ts";

export type { CustomerTruth, DuplicateTruth, NearMissTruth, Ref };

export interface SimulationOptions {
  customers: number;
  /** Days of history before `now`, in which shoppers first arrive. */
  days: number;
  /** The end of the simulated past (ms since 1970); nothing later is output. */
  now: number;
  seed?: number;
  /** Of userIds, anonymousIds and message ids (default `sim<seed>`): several sets can coexist. */
  prefix?: string;
  /** The hidden window after `now` that the ground truth describes (default 30). */
  futureDays?: number;
  /** Share of shoppers, among those who gave their details, planted again as a duplicate (default 0.03). */
  duplicateRate?: number;
  /** Share of them given a look-alike who is someone else (default 0.03). */
  nearMissRate?: number;
  /** No seasonality: every multiplier is 1 (a control for tests and flat benchmarks). */
  flat?: boolean;
}

export interface SimulatedShopper {
  /** Up to `now`: the shopper's and their look-alikes', in time order. */
  messages: SimMessage[];
  truth: CustomerTruth;
  duplicate: DuplicateTruth | null;
  nearMiss: NearMissTruth | null;
  /** The shopper's messages of the future window: what the ground truth is read from, never output. */
  future: SimMessage[];
}

export const DEFAULTS = { seed: 1, futureDays: 30, duplicateRate: 0.03, nearMissRate: 0.03 };

export function* simulate(options: SimulationOptions): Generator<SimulatedShopper> {
  const { customers, days, now, seed = DEFAULTS.seed, futureDays = DEFAULTS.futureDays, duplicateRate = DEFAULTS.duplicateRate, nearMissRate = DEFAULTS.nearMissRate, flat = false } = options;
  const prefix = options.prefix ?? `sim${seed}`;
  if (!Number.isInteger(customers) || customers < 0) throw new Error("customers must be a whole number ≥ 0");
  if (!Number.isInteger(days) || days < 1) throw new Error("days must be a whole number ≥ 1");
  if (!Number.isFinite(now)) throw new Error("now must be a time");
  const endAt = now + futureDays * DAY_MS;
  const today = Math.floor(now / DAY_MS);
  const arrivals = new ArrivalDays(today - days, days, flat);
  const salt = mix(seed, 0x5a17);

  for (let i = 0; i < customers; i++) {
    const rng = new Rng(mix(seed, i));
    const person = newPerson(rng, 3 * i, salt);
    const own = journey(rng, { index: i, prefix, person, arrivalDay: arrivals.sample(rng.next()), endAt, flat });
    const truth = customerTruth(`${prefix}-${i}`, own, person, now);
    const primary: Ref = truth.userId ? { userId: truth.userId } : { anonymousId: truth.anonymousId };

    // Look-alikes visit once, on a past day after the shopper gave their details and before the
    // last one (a visit late on the last day could run past `now`). They draw from a stream of
    // their own, so the journey (future days included) does not move them.
    const plant = new Rng(mix(seed, i, 1));
    const extra: Timed[] = [];
    let duplicate: DuplicateTruth | null = null;
    let nearMiss: NearMissTruth | null = null;
    const firstDay = own.identifiedAt === null ? Infinity : Math.floor(own.identifiedAt / DAY_MS) + 1;
    const visitDay = () => firstDay + plant.int(today - 1 - firstDay);
    if (firstDay < today - 1 && plant.chance(duplicateRate)) {
      const copy = duplicateOf(plant, person, 3 * i + 2, salt, own.addressAt !== null && own.addressAt <= now);
      const anonymousId = `${prefix}-anon-${i}-dup`;
      extra.push(...guestVisit(plant, visitDay(), anonymousId, copy.person, `${prefix}-${i}-dup-o0`));
      duplicate = { customer: truth.id, a: primary, b: { anonymousId }, variants: copy.variants };
    }
    if (firstDay < today - 1 && plant.chance(nearMissRate)) {
      const other = lookalikeOf(plant, person, 3 * i + 1, salt);
      const anonymousId = `${prefix}-anon-${i}-alike`;
      extra.push(...guestVisit(plant, visitDay(), anonymousId, other.person, `${prefix}-${i}-alike-o0`));
      nearMiss = { customer: truth.id, kind: other.kind, a: primary, b: { anonymousId } };
    }

    // Ids in time order over everything the shopper and their look-alikes did, future included,
    // so a message keeps its id whatever the length of the future window.
    const all = [...own.events, ...extra].sort((x, y) => x.at - y.at);
    const messages: SimMessage[] = [];
    const withheld: SimMessage[] = [];
    for (const [n, { at, message }] of all.entries()) (at <= now ? messages : withheld).push({ type: message.type, messageId: `${prefix}-${i}-${n}`, timestamp: new Date(at).toISOString(), ...message } as SimMessage);
    yield { messages, truth, duplicate, nearMiss, future: withheld };
  }
}
