/**
 * Seasonality of the simulated shop, as explicit multipliers of a base rate. They scale how many
 * new shoppers arrive on a day, how likely a known shopper is to come back that day, and (square
 * root) how likely a visit with a cart ends in an order. The figures are plausible for a fashion
 * shop in the northern hemisphere, not measured on any real one.
 */

export const DAY_MS = 86_400_000;

/** By UTC day of the week, Sunday first: weekends are the busiest days. */
export const WEEKDAY_MULTIPLIERS = [1.2, 0.9, 0.9, 0.95, 1.0, 1.05, 1.25] as const;

/** By month, January first: a summer lull, the November–December peak, the January–February trough. */
export const MONTH_MULTIPLIERS = [0.8, 0.75, 0.85, 0.9, 0.95, 0.9, 0.85, 0.8, 0.95, 1.0, 1.4, 1.7] as const;

/** Black Friday through Cyber Monday, on top of November's multiplier. */
export const BLACK_FRIDAY_MULTIPLIER = 1.8;

/** Black Friday (the day after the fourth Thursday of November) to Cyber Monday, as UTC days. */
function blackFridayDays(year: number): [number, number] {
  const first = Date.UTC(year, 10, 1) / DAY_MS;
  const firstThursday = first + ((4 - new Date(Date.UTC(year, 10, 1)).getUTCDay() + 7) % 7);
  const friday = firstThursday + 21 + 1;
  return [friday, friday + 3];
}

export function isBlackFridayWeekend(day: number): boolean {
  const [from, to] = blackFridayDays(new Date(day * DAY_MS).getUTCFullYear());
  return day >= from && day <= to;
}

/** The multiplier of a UTC day (days since 1970); 1 for every day when `flat`. */
export function seasonality(day: number, flat = false): number {
  if (flat) return 1;
  const date = new Date(day * DAY_MS);
  const m = WEEKDAY_MULTIPLIERS[date.getUTCDay()]! * MONTH_MULTIPLIERS[date.getUTCMonth()]!;
  return isBlackFridayWeekend(day) ? m * BLACK_FRIDAY_MULTIPLIER : m;
}

/**
 * Arrival days drawn in proportion to seasonality over `[fromDay, fromDay + days)`: a Poisson
 * arrival process with a seasonal rate, conditioned on the number of shoppers.
 */
export class ArrivalDays {
  private readonly cumulative: number[] = [];
  private readonly fromDay: number;
  // No parameter properties: Node runs this file by stripping types, which does not rewrite them.
  constructor(fromDay: number, days: number, flat = false) {
    this.fromDay = fromDay;
    let sum = 0;
    for (let d = 0; d < days; d++) {
      sum += seasonality(fromDay + d, flat);
      this.cumulative.push(sum);
    }
  }
  /** The day for a uniform draw `u` in [0, 1). */
  sample(u: number): number {
    const target = u * this.cumulative.at(-1)!;
    let [lo, hi] = [0, this.cumulative.length - 1];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return this.fromDay + lo;
  }
}
