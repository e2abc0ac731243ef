/**
 * Maps with at most `limit` calls in flight, keeping the order of results. A consumer batch can
 * reach tens of thousands of customers: their Durable Object calls go out in a bounded stream,
 * not all at once.
 */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** What `withinBudget` rejects with when the work takes longer than its budget. */
export class BudgetExceeded extends Error {}

/**
 * The work's result, or a BudgetExceeded rejection after `ms` (the work itself goes on; its
 * result is ignored). For answers that must come in time, with a fallback when they do not.
 */
export function withinBudget<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BudgetExceeded(`over the ${ms} ms budget`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
