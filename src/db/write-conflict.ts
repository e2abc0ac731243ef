import { errorText } from "../kernel/log";

/**
 * A D1 write refused because another writer got there first: the version guard of a profile row
 * (rapport_version_conflict), a suppression written meanwhile (rapport_suppressed), or a unique
 * key taken. Such a write is retried from a fresh read; any other error is not.
 */
export function isWriteConflict(err: unknown): boolean {
  const text = errorText(err);
  return text.includes("rapport_version_conflict") || text.includes("rapport_suppressed") || text.includes("UNIQUE constraint failed");
}
