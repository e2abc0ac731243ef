/**
 * Which customers an enricher should look up after a batch (pure): those with an email (or a
 * company email domain) it has not looked up yet, or not for this address, or not for
 * `refreshDays`. The profile remembers each lookup (`enrichment`), so a customer is sent once per
 * key and period, not on every batch.
 */
import freeEmailDomains from "email-providers/all.json";
import type { Identity } from "../model/identity";
import type { ProfileState } from "../profiles/apply";
import type { StoredEnricher } from "./store";
import type { EnrichItem } from "../model/jobs";

const DAY_MS = 86_400_000;
// ~8,800 free mail domains (gmail.com, outlook.com, web.de…), from email-providers: no company
// behind them.
const FREE_EMAIL = new Set<string>(freeEmailDomains);

export interface CandidateProfile {
  customerId: string;
  state: ProfileState;
  identities: readonly Identity[];
}

export const isFreeEmailDomain = (domain: string) => FREE_EMAIL.has(domain);

/** The key an enricher looks this profile up by, or null (no email, free mail, consent refused). */
export function lookupKeyOf(enricher: StoredEnricher, profile: CandidateProfile): string | null {
  const d = enricher.definition;
  if (d.consentCategory && profile.state.consent?.categoryPreferences[d.consentCategory] === false) return null;
  const trait = profile.state.traits.email;
  const email = typeof trait === "string" && trait.includes("@") ? trait.toLowerCase() : profile.identities.find((i) => i.kind === "email")?.value;
  if (!email) return null;
  if (d.key === "email") return email;
  const domain = email.slice(email.lastIndexOf("@") + 1);
  if (!domain || (d.skipFreeEmail && isFreeEmailDomain(domain))) return null;
  return domain;
}

export function enrichmentRequests(enricher: StoredEnricher, profiles: readonly CandidateProfile[], now: number): EnrichItem[] {
  const items: EnrichItem[] = [];
  for (const p of profiles) {
    const key = lookupKeyOf(enricher, p);
    if (!key) continue;
    const done = p.state.enrichment?.[enricher.id];
    if (done && done[0] === key && now - done[1] < enricher.definition.refreshDays * DAY_MS) continue;
    const userId = p.identities.find((i) => i.kind === "user_id")?.value;
    const email = p.identities.find((i) => i.kind === "email")?.value;
    if (!userId && !email) continue;
    items.push({ customerId: p.customerId, key, ...(userId ? { userId } : { email }) });
  }
  return items;
}
