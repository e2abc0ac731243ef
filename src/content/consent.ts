/**
 * Consent in content: a customer whose `context.consent.categoryPreferences` says no to one of
 * `CONTENT_CONSENT_CATEGORIES` (default `personalization`) gets no personalized content. Blocks
 * serve their fallback, and clicks go where they would for someone unknown (popular products).
 * Only an explicit no counts: a customer who never answered is personalized as before.
 */
import type { CustomerProfile } from "../profiles/document";

export function personalizationAllowed(profile: Pick<CustomerProfile, "consent"> | null, categories: readonly string[]): boolean {
  const preferences = profile?.consent?.categoryPreferences;
  if (!preferences) return true;
  return !categories.some((c) => preferences[c] === false);
}
