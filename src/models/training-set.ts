
import { shards } from "../db/shards";
import { gt } from "drizzle-orm";
import { database } from "../db/client";
import { customers } from "../db/schema";
import type { StoredEvent } from "../model/events";
import { applyEvents, emptyProfile } from "../profiles/apply";
import { loadProfiles } from "../profiles/store";
import { customerEvents } from "../profiles/events";
import { featuresOf } from "./features";

const DAY_MS = 86_400_000;
const CHURN_LOOKBACK_DAYS = 90;

export interface TrainingRow {
  customerId: string;
  features: number[];
  purchased: 0 | 1;
  churned: 0 | 1;
  churnEligible: boolean;
}

/** Activity: what the customer did (segment and catalog notifications are not theirs). */
const isActivity = (e: StoredEvent) => e.type === "track" || e.type === "page" || e.type === "screen";

export function rowOf(customerId: string, events: readonly StoredEvent[], cutoff: number, horizonDays: number): TrainingRow | null {
  const before: StoredEvent[] = [];
  let purchased: 0 | 1 = 0;
  let activeAfter = false;
  const end = cutoff + horizonDays * DAY_MS;
  for (const e of events) {
    const at = Date.parse(e.timestamp);
    if (at <= cutoff) before.push(e);
    else if (at <= end) {
      if (e.type === "track" && e.event === "Order Completed") purchased = 1;
      if (isActivity(e)) activeAfter = true;
    }
  }
  if (before.length === 0) return null;
  const state = applyEvents(emptyProfile(), before);
  const churnEligible = before.some((e) => isActivity(e) && Date.parse(e.timestamp) > cutoff - CHURN_LOOKBACK_DAYS * DAY_MS);
  return { customerId, features: featuresOf(state, cutoff), purchased, churned: activeAfter ? 0 : 1, churnEligible };
}

/** One page of customers (by id, after `after`). `next` is null at the end. */
export async function trainingPage(env: Env, cutoff: number, horizonDays: number, after: string, limit: number): Promise<{ rows: TrainingRow[]; next: string | null }> {
  const results = await shards(env).page(limit, (d1) => database(d1).select({ id: customers.id }).from(customers).where(gt(customers.id, after)).orderBy(customers.id).limit(limit).all(), (r) => r.id);
  const ids = results.map((r) => r.id);
  const profiles = await loadProfiles(shards(env), ids);
  const rows: TrainingRow[] = [];
  for (const id of ids) {
    const p = profiles.get(id);
    if (!p) continue;
    const row = rowOf(id, await customerEvents(env, p), cutoff, horizonDays);
    if (row) rows.push(row);
  }
  return { rows, next: ids.length === limit ? ids[ids.length - 1]! : null };
}
