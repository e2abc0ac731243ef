/** What an experiment's tally holds per customer and per variant (experiments/tally.ts). */
import type { ExperimentRecord } from "../profiles/experiments";

/** A customer's record as the pipeline sends it: the profile's (profiles/experiments.ts) with the profile version that wrote it. */
export type TallyRow = Pick<ExperimentRecord, "variant" | "at" | "conversions" | "revenue" | "clicks" | "unsubscribes" | "complaints" | "pre"> & {
  customerId: string;
  version: number;
};

/** A covariate's sums over a variant's customers: Σx, Σx² and Σxy with the metric y. */
export interface CovariateSums {
  sum: number;
  squares: number;
  cross: number;
}

/** Per variant: exposed customers and the sums the statistics need. */
export interface VariantTotals {
  variant: string;
  exposed: number;
  /** Customers with at least one conversion / click / unsubscribe / complaint. */
  converted: number;
  clicked: number;
  unsubscribed: number;
  complained: number;
  conversions: number;
  clicks: number;
  /** Revenue in minor units, and the sum of each customer's revenue squared (for its variance). */
  revenue: number;
  revenueSquares: number;
  /** Per metric, its pre-exposure covariate's sums (CUPED). */
  covariates: Record<"conversion" | "revenue" | "click", CovariateSums>;
  firstExposureAt: number | null;
  lastExposureAt: number | null;
}

/** A variant nobody was exposed to yet. */
export const noTotals = (variant: string): VariantTotals => ({ variant, exposed: 0, converted: 0, clicked: 0, unsubscribed: 0, complained: 0, conversions: 0, clicks: 0, revenue: 0, revenueSquares: 0, covariates: { conversion: noSums(), revenue: noSums(), click: noSums() }, firstExposureAt: null, lastExposureAt: null });

const noSums = (): CovariateSums => ({ sum: 0, squares: 0, cross: 0 });
