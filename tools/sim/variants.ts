/**
 * Planted look-alikes: the validation set of duplicate detection (src/identity/duplicates.ts).
 *
 * - A duplicate is the same person again, on another device and without their account (a guest
 *   checkout), writing their details the way people do on a second form: a typo, first and last
 *   names swapped, accents left out, the email with a `+tag`, without its dots, at another
 *   provider or a new one, the mobile number with another country's prefix. They share no
 *   identifier with the first profile (identity resolution would join them otherwise, and the
 *   scan would have nothing to find), but keep enough in common for the scan's rules to find them.
 * - A near miss is another person who looks like them: a namesake in another part of the same
 *   country, or a family member at the same address. The scan should leave these alone.
 */
import { elsewhere, EMAIL_DOMAINS, emailOf, newPerson, otherFirstName, type Person } from "./people.ts";
import type { Rng } from "./random.ts";

export type DuplicateVariant =
  | "same_name"
  | "first_name_typo"
  | "last_name_typo"
  | "names_swapped"
  | "accents_dropped"
  | "email_plus_tag"
  | "email_separators_dropped"
  | "email_other_domain"
  | "email_new"
  | "phone_other_prefix"
  | "same_postal_code"
  | "moved"
  | "first_profile_without_address";

export type NearMissKind = "namesake" | "household";

/** A letter swapped with the next, dropped or doubled, never the first one. */
export function typo(rng: Rng, s: string): string {
  if (s.length < 4) return s + s.at(-1);
  for (;;) {
    const k = 1 + rng.int(s.length - 2);
    const kind = rng.int(3);
    const out = kind === 0 ? s.slice(0, k) + s[k + 1] + s[k] + s.slice(k + 2) : kind === 1 ? s.slice(0, k) + s.slice(k + 1) : s.slice(0, k) + s[k] + s.slice(k);
    if (out !== s) return out;
  }
}

const stripAccents = (s: string) => s.normalize("NFKD").replace(/[\u0300-\u036f]/g, "");

function nameVariant(rng: Rng, p: Person): [Pick<Person, "firstName" | "lastName">, DuplicateVariant] {
  const r = rng.next();
  if (r < 0.25) return [{ firstName: p.firstName, lastName: p.lastName }, "same_name"];
  if (r < 0.45) return [{ firstName: typo(rng, p.firstName), lastName: p.lastName }, "first_name_typo"];
  if (r < 0.65) return [{ firstName: p.firstName, lastName: typo(rng, p.lastName) }, "last_name_typo"];
  if (r < 0.85 || stripAccents(p.firstName + p.lastName) === p.firstName + p.lastName) return [{ firstName: p.lastName, lastName: p.firstName }, "names_swapped"];
  return [{ firstName: stripAccents(p.firstName), lastName: stripAccents(p.lastName) }, "accents_dropped"];
}

function emailVariant(rng: Rng, p: Person, newSerial: number, salt: number): [string, DuplicateVariant] {
  const [local, domain] = p.email.split("@") as [string, string];
  const r = rng.next();
  if (r < 0.25) return [`${local}+${rng.pick(["shop", "orders", "news"])}@${domain}`, "email_plus_tag"];
  if (r < 0.4 && /[._]/.test(local)) return [`${local.replace(/[._]/g, "")}@${domain}`, "email_separators_dropped"];
  if (r < 0.75) return [`${local}@${rng.pick(EMAIL_DOMAINS.filter((d) => d !== domain))}`, "email_other_domain"];
  return [emailOf(rng, p.firstName, p.lastName, newSerial, salt), "email_new"];
}

export interface PlantedDuplicate {
  person: Person;
  variants: DuplicateVariant[];
}

/**
 * The same person's details on a second, account-less visit. `newSerial` numbers a new email
 * address; `addressKnown` says whether their first profile holds their postal address (else the
 * scan has no postal code to compare, whatever the copy says).
 */
export function duplicateOf(rng: Rng, p: Person, newSerial: number, salt: number, addressKnown: boolean): PlantedDuplicate {
  const [names, nameKind] = nameVariant(rng, p);
  const [email, emailKind] = emailVariant(rng, p, newSerial, salt);
  const variants: DuplicateVariant[] = [nameKind, emailKind];
  const copy: Person = { ...names, email, address: p.address, locale: p.locale };
  // A French mobile entered as a Monaco one: the same nine digits after another prefix.
  if (p.phone?.startsWith("+336") && rng.chance(0.5)) {
    copy.phone = `+377${p.phone.slice(3)}`;
    variants.push("phone_other_prefix");
  }
  // Some moved house between the two orders; only where the email still gives them away.
  if (emailKind !== "email_new" && rng.chance(0.3)) {
    copy.address = elsewhere(rng, p.address);
    variants.push(addressKnown ? "moved" : "first_profile_without_address");
  } else variants.push(addressKnown ? "same_postal_code" : "first_profile_without_address");
  return { person: copy, variants };
}

/** Someone else who looks like `p`. `serial` and `salt` give them their own email and phone. */
export function lookalikeOf(rng: Rng, p: Person, serial: number, salt: number): { kind: NearMissKind; person: Person } {
  if (rng.chance(0.6)) return { kind: "namesake", person: newPerson(rng, serial, salt, { firstName: p.firstName, lastName: p.lastName, address: elsewhere(rng, p.address) }) };
  return { kind: "household", person: newPerson(rng, serial, salt, { firstName: otherFirstName(rng, p.firstName), lastName: p.lastName, address: p.address }) };
}

