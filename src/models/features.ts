/**
 * The features predictive models read from a profile at an instant. The same function builds the
 * training set (a profile as its events made it at a past cutoff) and scores live profiles in the
 * pipeline, so what was trained on is what is applied.
 */
import type { ProfileState } from "../profiles/apply";

const DAY_MS = 86_400_000;

export const FEATURES = [
  "orders_log",
  "revenue_log",
  "has_ordered",
  "days_since_order",
  "days_since_seen",
  "tenure_days",
  "activity_7d_log",
  "activity_30d_log",
  "activity_90d_log",
  "orders_per_month",
] as const;

/** Activity weights (views, adds, orders, opens, clicks, pages) of the days within `days` of `now`. */
function activity(days: Record<string, number>, now: number, within: number): number {
  const from = Math.floor(now / DAY_MS) - within;
  let sum = 0;
  for (const [day, weight] of Object.entries(days)) if (Number(day) >= from && Number(day) * DAY_MS <= now) sum += weight;
  return sum;
}

const capDays = (at: number | null | undefined, now: number) => (at === null || at === undefined ? 365 : Math.min(365, Math.max(0, (now - at) / DAY_MS)));

export function featuresOf(state: ProfileState, now: number): number[] {
  const c = state.computed;
  const orders = c?.orders ?? 0;
  const cents = c ? Object.values(c.revenue).reduce((n, [v]) => n + v, 0) : 0;
  const tenure = capDays(state.firstSeenAt, now);
  const days = c?.engagement ?? {};
  return [
    Math.log1p(orders),
    Math.log1p(cents / 100),
    orders > 0 ? 1 : 0,
    capDays(c?.lastOrderAt, now) / 365,
    capDays(state.lastSeenAt, now) / 365,
    tenure / 365,
    Math.log1p(activity(days, now, 7)),
    Math.log1p(activity(days, now, 30)),
    Math.log1p(activity(days, now, 90)),
    orders / Math.max(1, tenure / 30),
  ];
}
