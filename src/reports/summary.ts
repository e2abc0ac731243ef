/**
 * A report line from the summed counts (reports/store.ts): the counts, the rates marketers read,
 * and, for a trigger with a holdout, what the message added against the held-out customers with a
 * 95 % interval. Pure. The definitions are in docs/engagement.md, "Reports".
 */
import type { MetricSums } from "./store";

const Z95 = 1.959964;

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

export interface Lift {
  treated: number;
  held: number;
  treatedConversionRate: number;
  heldConversionRate: number;
  /** Conversions among the treated that would not have happened without the message: (p₁ − p₀)·n₁. */
  incrementalConversions: Interval;
  /** Revenue (major units) likewise: (r̄₁ − r̄₀)·n₁. */
  incrementalRevenue: Interval;
}

export interface ReportLine {
  delivered: number;
  /** Messages with any open or click (machine opens included): the recipients when nothing says delivered. */
  reached: number;
  opens: number;
  uniqueOpens: number;
  machineOpens: number;
  clicks: number;
  uniqueClicks: number;
  scannerClicks: number;
  conversions: number;
  /** Major units (cents / 100), whatever the orders' currencies. */
  revenue: number;
  unsubscribes: number;
  complaints: number;
  recipients: number;
  openRate: number | null;
  clickRate: number | null;
  clickToOpenRate: number | null;
  conversionRate: number | null;
  revenuePerRecipient: number | null;
  unsubscribeRate: number | null;
  lift: Lift | null;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;
const roundOrNull = (x: number | null) => (x === null ? null : round(x));

/**
 * The recipients a rate is over: delivered (the ESP said so), else the treated firings of a trigger
 * with a holdout, else the messages reached (an open of any kind or a click).
 */
export function recipientsOf(s: MetricSums): number {
  return s.delivered > 0 ? s.delivered : s.treated > 0 ? s.treated : s.reached;
}

export function reportLine(s: MetricSums): ReportLine {
  const recipients = recipientsOf(s);
  const revenue = s.revenue / 100;
  return {
    delivered: s.delivered,
    reached: s.reached,
    opens: s.opens,
    uniqueOpens: s.uniqueOpens,
    machineOpens: s.machineOpens,
    clicks: s.clicks,
    uniqueClicks: s.uniqueClicks,
    scannerClicks: s.scannerClicks,
    conversions: s.conversions,
    revenue: round(revenue, 2),
    unsubscribes: s.unsubscribes,
    complaints: s.complaints,
    recipients,
    openRate: roundOrNull(ratio(s.uniqueOpens, recipients)),
    clickRate: roundOrNull(ratio(s.uniqueClicks, recipients)),
    clickToOpenRate: roundOrNull(ratio(s.uniqueClicks, s.uniqueOpens)),
    conversionRate: roundOrNull(ratio(s.conversions, recipients)),
    revenuePerRecipient: recipients > 0 ? round(revenue / recipients, 2) : null,
    unsubscribeRate: roundOrNull(ratio(s.unsubscribes, recipients)),
    lift: liftOf(s),
  };
}

/**
 * Treated against held out, per firing: conversion is a yes/no per firing (its first conversion
 * in the window), revenue a sum per firing. Normal intervals on the difference of the two means
 * (Wald), scaled to the treated firings. Null until both arms have firings.
 */
export function liftOf(s: MetricSums): Lift | null {
  const n1 = s.treated;
  const n0 = s.held;
  if (n1 === 0 || n0 === 0) return null;
  const p1 = s.treatedConversions / n1;
  const p0 = s.heldConversions / n0;
  const seP = Math.sqrt((p1 * (1 - p1)) / n1 + (p0 * (1 - p0)) / n0);
  const m1 = s.treatedRevenue / 100 / n1;
  const m0 = s.heldRevenue / 100 / n0;
  const v1 = Math.max(0, s.treatedRevenueSq / 10_000 / n1 - m1 * m1);
  const v0 = Math.max(0, s.heldRevenueSq / 10_000 / n0 - m0 * m0);
  const seR = Math.sqrt(v1 / n1 + v0 / n0);
  const interval = (diff: number, se: number, digits: number): Interval => ({ estimate: round(diff * n1, digits), low: round((diff - Z95 * se) * n1, digits), high: round((diff + Z95 * se) * n1, digits) });
  return {
    treated: n1,
    held: n0,
    treatedConversionRate: round(p1),
    heldConversionRate: round(p0),
    incrementalConversions: interval(p1 - p0, seP, 1),
    incrementalRevenue: interval(m1 - m0, seR, 2),
  };
}
