/**
 * Normalization of the traits a profile holds: emails, phone numbers (E.164, with
 * libphonenumber-js), names, countries (ISO 3166-1 alpha-2, with i18n-iso-countries), dates
 * (ISO 8601 UTC), and the common spellings of Segment's reserved traits (`first_name`,
 * `FirstName` → `firstName`). Pure. A value that cannot be normalized is kept as sent and flagged,
 * never dropped.
 */
import countries from "i18n-iso-countries";
import de from "i18n-iso-countries/langs/de.json";
import en from "i18n-iso-countries/langs/en.json";
import es from "i18n-iso-countries/langs/es.json";
import fr from "i18n-iso-countries/langs/fr.json";
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js";

for (const locale of [en, fr, de, es]) countries.registerLocale(locale);
const COUNTRY_LANGS = ["en", "fr", "de", "es"];

/** Segment's reserved traits, by their lower-cased spelling without separators. */
const RESERVED_TRAITS = ["address", "age", "avatar", "birthday", "company", "createdAt", "description", "email", "firstName", "gender", "id", "lastName", "name", "phone", "title", "username", "website"];
const RESERVED_BY_FOLDED = new Map(RESERVED_TRAITS.map((t) => [fold(t), t]));
/** Other common spellings of reserved traits. */
const ALIASES = new Map([
  ["emailaddress", "email"],
  ["mail", "email"],
  ["phonenumber", "phone"],
  ["mobile", "phone"],
  ["givenname", "firstName"],
  ["familyname", "lastName"],
  ["surname", "lastName"],
  ["fullname", "name"],
  ["dateofbirth", "birthday"],
  ["dob", "birthday"],
]);

function fold(name: string): string {
  return name.toLowerCase().replace(/[\s_\-.]/g, "");
}

/** `first_name`, `FirstName`, `first-name` → `firstName`; other names are left as they are. */
export function canonicalTraitName(name: string): string {
  const folded = fold(name);
  return RESERVED_BY_FOLDED.get(folded) ?? ALIASES.get(folded) ?? name;
}

export type Normalized = { ok: true; value: unknown } | { ok: false; value: unknown; reason: string };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normalizeEmail(value: unknown): Normalized {
  if (typeof value !== "string") return { ok: false, value, reason: "email_not_a_string" };
  const email = value.trim().toLowerCase();
  return EMAIL.test(email) ? { ok: true, value: email } : { ok: false, value, reason: "email_invalid" };
}

export function normalizePhone(value: unknown, defaultCountry?: string): Normalized {
  if (typeof value !== "string" && typeof value !== "number") return { ok: false, value, reason: "phone_not_a_string" };
  const text = String(value).trim();
  const phone = parsePhoneNumberFromString(text, defaultCountry ? (defaultCountry.toUpperCase() as CountryCode) : undefined);
  return phone?.isValid() ? { ok: true, value: phone.number } : { ok: false, value, reason: "phone_invalid" };
}

/** Trims and collapses white space. */
export function normalizeName(value: unknown): Normalized {
  if (typeof value !== "string") return { ok: false, value, reason: "name_not_a_string" };
  const name = value.trim().replace(/\s+/g, " ");
  return name ? { ok: true, value: name } : { ok: false, value, reason: "name_empty" };
}

/** `fr`, `FRA`, `250`, `France`, `Frankreich` → `FR`. */
export function normalizeCountry(value: unknown): Normalized {
  if (typeof value !== "string" && typeof value !== "number") return { ok: false, value, reason: "country_not_a_string" };
  const text = String(value).trim();
  if (/^[a-z]{2}$/i.test(text) && countries.isValid(text.toUpperCase())) return { ok: true, value: text.toUpperCase() };
  if (/^[a-z]{3}$/i.test(text)) {
    const alpha2 = countries.alpha3ToAlpha2(text.toUpperCase());
    if (alpha2) return { ok: true, value: alpha2 };
  }
  if (/^\d{1,3}$/.test(text)) {
    const alpha2 = countries.numericToAlpha2(text.padStart(3, "0"));
    if (alpha2) return { ok: true, value: alpha2 };
  }
  for (const lang of COUNTRY_LANGS) {
    const alpha2 = countries.getAlpha2Code(text, lang);
    if (alpha2) return { ok: true, value: alpha2 };
  }
  return { ok: false, value, reason: "country_unknown" };
}

/** A date or date-time to ISO 8601 UTC. A bare date (`1990-05-17`) stays a date. */
export function normalizeDate(value: unknown): Normalized {
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value.trim())) {
    const text = value.trim();
    return Number.isNaN(Date.parse(text)) ? { ok: false, value, reason: "date_invalid" } : { ok: true, value: text };
  }
  if (typeof value !== "string" && typeof value !== "number") return { ok: false, value, reason: "date_not_a_string" };
  // Numbers are Unix times: seconds below 10^11 (until year 5138), milliseconds above.
  const ms = typeof value === "number" ? (Math.abs(value) < 1e11 ? value * 1000 : value) : Date.parse(value.trim());
  return Number.isFinite(ms) ? { ok: true, value: new Date(ms).toISOString() } : { ok: false, value, reason: "date_invalid" };
}

export interface NormalizeOptions {
  /** ISO country for phone numbers written without a country code. */
  defaultPhoneCountry?: string;
}

const DATE_TRAITS = new Set(["birthday", "createdAt"]);
const NAME_TRAITS = new Set(["firstName", "lastName", "name"]);

/** Normalizes one trait, by its canonical name. */
export function normalizeTrait(name: string, value: unknown, options: NormalizeOptions = {}): Normalized {
  if (value === null) return { ok: true, value: null };
  if (name === "email") return normalizeEmail(value);
  if (name === "phone") return normalizePhone(value, options.defaultPhoneCountry);
  if (NAME_TRAITS.has(name)) return normalizeName(value);
  if (DATE_TRAITS.has(name)) return normalizeDate(value);
  if (name === "country") return normalizeCountry(value);
  if (name === "address" && typeof value === "object" && !Array.isArray(value)) {
    const address = { ...(value as Record<string, unknown>) };
    if (address.country === undefined) return { ok: true, value: address };
    const country = normalizeCountry(address.country);
    if (country.ok) return { ok: true, value: { ...address, country: country.value } };
    return { ok: false, value, reason: `address.${country.reason}` };
  }
  return { ok: true, value };
}

export interface NormalizedTraits {
  traits: Record<string, unknown>;
  /** Trait name → why its value (kept as sent) could not be normalized. */
  issues: Record<string, string>;
}

/**
 * Canonical names and normalized values. When two spellings of one trait arrive in the same call
 * (`first_name` and `firstName`), the canonical spelling wins.
 */
export function normalizeTraits(raw: Record<string, unknown>, options: NormalizeOptions = {}): NormalizedTraits {
  const traits: Record<string, unknown> = {};
  const issues: Record<string, string> = {};
  const entries = Object.entries(raw).sort(([a], [b]) => Number(canonicalTraitName(a) === a) - Number(canonicalTraitName(b) === b));
  for (const [rawName, value] of entries) {
    if (value === undefined) continue;
    const name = canonicalTraitName(rawName);
    const result = normalizeTrait(name, value, options);
    traits[name] = result.value;
    if (result.ok) delete issues[name];
    else issues[name] = result.reason;
  }
  return { traits, issues };
}
