/**
 * What an experiment would do to existing customers (docs/experiments.md, "Dry run"), pure: the
 * variant each sampled customer would be served now (those already exposed keep theirs), those
 * whose consent keeps them out, and whether the split matches the weights (the same χ² check as the
 * results).
 */
import { HOLDOUT, variantRanges } from "./assignment";
import { sampleRatioTest } from "./results";
import { chooseVariant, type ServedExperiment } from "./serving";

export interface DryRunCustomer {
  id: string;
  /** The consent preferences on the profile. */
  preferences: Record<string, boolean> | null;
  /** The variant the profile records, if exposed already. */
  exposed: string | undefined;
}

export interface DryRun {
  sampled: number;
  /** Customers who declined personalization: they are served the block's fallback, outside the experiment. */
  declined: number;
  alreadyExposed: number;
  variants: { variant: string; customers: number; share: number; expectedShare: number }[];
  sampleRatio: { chiSquare: number; pValue: number } | null;
  /** A few customers and their variant, to check by hand (GET /v1/content/… for them answers the same). */
  examples: { customerId: string; variant: string }[];
}

export function dryRun(e: ServedExperiment, customers: readonly DryRunCustomer[], consentCategories: readonly string[]): DryRun {
  const d = e.definition;
  // As a running experiment would assign (a draft or paused one would serve the control to all).
  const running: ServedExperiment = { ...e, definition: { ...d, status: "running", winner: undefined } };
  const counts = new Map<string, number>();
  let declined = 0;
  let alreadyExposed = 0;
  const examples: DryRun["examples"] = [];
  for (const c of customers) {
    if (consentCategories.some((k) => c.preferences?.[k] === false)) {
      declined++;
      continue;
    }
    if (c.exposed !== undefined) alreadyExposed++;
    const { variant } = chooseVariant(running, c.id, c.exposed);
    counts.set(variant, (counts.get(variant) ?? 0) + 1);
    if (examples.length < 5) examples.push({ customerId: c.id, variant });
  }
  const ranges = variantRanges(d.variants);
  const arms = d.variants.map((v, i) => ({ variant: v.key, expectedShare: (1 - d.holdout) * (ranges[i]![1] - ranges[i]![0]) }));
  if (d.holdout > 0) arms.push({ variant: HOLDOUT, expectedShare: d.holdout });
  const assigned = customers.length - declined;
  const variants = arms.map((a) => ({ ...a, customers: counts.get(a.variant) ?? 0, share: assigned > 0 ? (counts.get(a.variant) ?? 0) / assigned : 0 }));
  return {
    sampled: customers.length,
    declined,
    alreadyExposed,
    variants,
    sampleRatio: sampleRatioTest(
      variants.map((v) => v.customers),
      variants.map((v) => v.expectedShare),
    ),
    examples,
  };
}
