/** Milliseconds since the epoch as the ISO-8601 string the API serves; null stays null. */
export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
