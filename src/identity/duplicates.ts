/**
 * Likely duplicate profiles that share no identifier (the same person with a typo in a name,
 * first and last name swapped, a phone written with another country prefix, a second email
 * address). Blocking keys keep the comparison near-linear; pairs in a block are scored with
 * Jaro-Winkler on names and email local parts plus exact signals. Pure.
 *
 * Jaro-Winkler is string-comparison's: the textbook definition (match window of half the longer
 * string, half-transpositions counted exactly, Winkler's prefix boost above 0.7). Phonetic
 * blocking keys are double-metaphone's primary code cut to four letters, the original's length.
 */
import { doubleMetaphone } from "double-metaphone";
import stringComparison from "string-comparison";

const jaroWinkler = (a: string, b: string) => stringComparison.jaroWinkler.similarity(a, b);

export interface PersonRecord {
  id: string;
  firstName?: string;
  lastName?: string;
  emails: string[];
  phones: string[];
  postalCode?: string;
  userIds: string[];
}

export interface DuplicateCandidate {
  a: string;
  b: string;
  score: number;
  reasons: string[];
}

/** Default thresholds: at or above `autoMerge`, merge; at or above `review`, ask an admin. */
export const DUPLICATE_THRESHOLDS = { autoMerge: 0.92, review: 0.75 };
/** Blocks bigger than this are too common a key to say anything (a frequent surname). */
const MAX_BLOCK = 200;

const clean = (s: string | undefined) => (s ?? "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[^a-z]/g, "");
const phonetic = (s: string) => (s ? doubleMetaphone(s)[0].slice(0, 4) : "");
/** `ada.lovelace+shop@x.com` → `adalovelace`. */
const localPart = (email: string) => email.split("@")[0]!.split("+")[0]!.replace(/[._-]/g, "");
const phoneTail = (phone: string) => phone.replace(/\D/g, "").slice(-9);

function blockingKeys(p: PersonRecord): string[] {
  const first = clean(p.firstName);
  const last = clean(p.lastName);
  const keys: string[] = [];
  if (first && last) {
    keys.push(`n:${phonetic(last)}:${first[0]}`, `n:${phonetic(first)}:${last[0]}`);
    if (p.postalCode) keys.push(`p:${p.postalCode.replace(/\s/g, "").toLowerCase()}:${last[0]}`);
  }
  for (const e of p.emails) if (localPart(e).length >= 5) keys.push(`e:${localPart(e)}`);
  for (const ph of p.phones) if (phoneTail(ph).length >= 8) keys.push(`t:${phoneTail(ph)}`);
  return keys;
}

export function scorePair(a: PersonRecord, b: PersonRecord): DuplicateCandidate | null {
  const userIds = new Set([...a.userIds, ...b.userIds]);
  if (userIds.size > 1) return null; // two known accounts: not the same profile by rule
  const reasons: string[] = [];
  const [fa, la, fb, lb] = [clean(a.firstName), clean(a.lastName), clean(b.firstName), clean(b.lastName)];
  let name = 0;
  if (fa && la && fb && lb) {
    const straight = (jaroWinkler(fa, fb) + jaroWinkler(la, lb)) / 2;
    const swapped = (jaroWinkler(fa, lb) + jaroWinkler(la, fb)) / 2;
    name = Math.max(straight, swapped);
    if (name >= 0.85) reasons.push(swapped > straight ? `names_swapped(${swapped.toFixed(2)})` : `names_similar(${straight.toFixed(2)})`);
  }
  const phone = a.phones.some((x) => b.phones.some((y) => phoneTail(x).length >= 8 && phoneTail(x) === phoneTail(y)));
  if (phone) reasons.push("same_phone_number");
  let email = 0;
  for (const x of a.emails) for (const y of b.emails) email = Math.max(email, localPart(x) === localPart(y) ? 1 : jaroWinkler(localPart(x), localPart(y)));
  if (email >= 0.95) reasons.push(email === 1 ? "same_email_local_part" : `email_local_part_similar(${email.toFixed(2)})`);
  const postal = !!a.postalCode && !!b.postalCode && a.postalCode.replace(/\s/g, "").toLowerCase() === b.postalCode.replace(/\s/g, "").toLowerCase();
  if (postal) reasons.push("same_postal_code");

  // Similar names alone are namesakes as often as duplicates: they stay below the review
  // threshold. Each independent signal (phone, email local part, postal code) adds confidence;
  // without similar names, only a phone and an email together reach review. Contradictions
  // (both have phones and none match, both have postal codes and they differ) take some away:
  // namesakes with look-alike addresses (`john.smith12@`, `john.smith45@`) are not one person.
  const phonesDiffer = !phone && a.phones.length > 0 && b.phones.length > 0;
  const postalsDiffer = !postal && !!a.postalCode && !!b.postalCode;
  if (phonesDiffer) reasons.push("different_phone_numbers");
  if (postalsDiffer) reasons.push("different_postal_codes");
  const evidence = (phone ? 0.25 : 0) + (email === 1 ? 0.2 : email >= 0.95 ? 0.1 : 0) + (postal ? 0.1 : 0) - (phonesDiffer ? 0.1 : 0) - (postalsDiffer ? 0.05 : 0);
  const score = name >= 0.85 ? Math.min(1, 0.3 + 0.4 * name + evidence) : Math.min(1, 0.3 + evidence);
  if (score < DUPLICATE_THRESHOLDS.review) return null;
  const [x, y] = a.id < b.id ? [a.id, b.id] : [b.id, a.id];
  return { a: x, b: y, score: Math.round(score * 1000) / 1000, reasons };
}

/** Candidate pairs above the review threshold, best first. */
export function findDuplicates(people: readonly PersonRecord[]): DuplicateCandidate[] {
  const blocks = new Map<string, PersonRecord[]>();
  for (const p of people) for (const key of new Set(blockingKeys(p))) blocks.set(key, [...(blocks.get(key) ?? []), p]);
  const found = new Map<string, DuplicateCandidate>();
  for (const members of blocks.values()) {
    if (members.length < 2 || members.length > MAX_BLOCK) continue;
    for (let i = 0; i < members.length; i++) {
      for (let j = i + 1; j < members.length; j++) {
        const key = [members[i]!.id, members[j]!.id].sort().join("|");
        if (found.has(key)) continue;
        const candidate = scorePair(members[i]!, members[j]!);
        if (candidate) found.set(key, candidate);
      }
    }
  }
  return [...found.values()].sort((x, y) => y.score - x.score);
}
