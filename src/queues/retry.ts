/** Exponential backoff for queue retries: base, 2×base, 4×base … capped at 15 minutes. */
export const MAX_RETRY_DELAY_SECONDS = 900;

export function retryDelaySeconds(attempts: number, baseSeconds: number): number {
  return Math.min(MAX_RETRY_DELAY_SECONDS, baseSeconds * 2 ** Math.max(0, attempts - 1));
}
