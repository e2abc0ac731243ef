import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalTraitName, normalizeCountry, normalizeDate, normalizeEmail, normalizeName, normalizePhone, normalizeTraits } from "../../src/identity/normalize";

describe("trait normalization", () => {
  it("maps common spellings to Segment's reserved traits", () => {
    expect(["first_name", "firstName", "FirstName", "first-name", "FIRST NAME"].map(canonicalTraitName)).toEqual(Array(5).fill("firstName"));
    expect(["email_address", "E-Mail", "phone_number", "created_at", "dob", "surname"].map(canonicalTraitName)).toEqual(["email", "email", "phone", "createdAt", "birthday", "lastName"]);
    expect(canonicalTraitName("favourite_colour")).toBe("favourite_colour");
  });

  it("normalizes emails, and flags what is not one", () => {
    expect(normalizeEmail("  Ada.Lovelace@Example.COM ")).toEqual({ ok: true, value: "ada.lovelace@example.com" });
    expect(normalizeEmail("not-an-email")).toEqual({ ok: false, value: "not-an-email", reason: "email_invalid" });
  });

  it("writes phone numbers in E.164, with the default country for national numbers", () => {
    expect(normalizePhone("+33 6 12 34 56 78")).toEqual({ ok: true, value: "+33612345678" });
    expect(normalizePhone("06 12 34 56 78", "FR")).toEqual({ ok: true, value: "+33612345678" });
    expect(normalizePhone("(415) 555-2671", "US")).toEqual({ ok: true, value: "+14155552671" });
    expect(normalizePhone("06 12 34 56 78").ok).toBe(false);
    expect(normalizePhone("12").ok).toBe(false);
  });

  it("collapses white space in names", () => {
    expect(normalizeName("  Ada \t  Lovelace ")).toEqual({ ok: true, value: "Ada Lovelace" });
  });

  it("writes countries as ISO 3166-1 alpha-2 from codes and names in several languages", () => {
    for (const input of ["fr", "FRA", "250", "France", "france", "Frankreich", "Francia"]) expect(normalizeCountry(input), input).toEqual({ ok: true, value: "FR" });
    expect(normalizeCountry("Atlantis")).toEqual({ ok: false, value: "Atlantis", reason: "country_unknown" });
  });

  it("writes dates as ISO 8601 UTC, keeping bare dates", () => {
    expect(normalizeDate("1990-05-17")).toEqual({ ok: true, value: "1990-05-17" });
    expect(normalizeDate("2026-03-01T10:00:00+02:00")).toEqual({ ok: true, value: "2026-03-01T08:00:00.000Z" });
    expect(normalizeDate(1_700_000_000)).toEqual({ ok: true, value: "2023-11-14T22:13:20.000Z" });
    expect(normalizeDate("someday").ok).toBe(false);
  });

  it("normalizes a trait set: canonical names, values, and issues kept with the value as sent", () => {
    const { traits, issues } = normalizeTraits({ first_name: " Ada ", Email: "ADA@EXAMPLE.COM", phone: "12", address: { city: "Paris", country: "France" }, plan: "pro" }, { defaultPhoneCountry: "FR" });
    expect(traits).toEqual({ firstName: "Ada", email: "ada@example.com", phone: "12", address: { city: "Paris", country: "FR" }, plan: "pro" });
    expect(issues).toEqual({ phone: "phone_invalid" });
  });

  it("prefers the canonical spelling when two spellings of a trait arrive together", () => {
    expect(normalizeTraits({ firstName: "Ada", first_name: "Augusta" }).traits).toEqual({ firstName: "Ada" });
    expect(normalizeTraits({ first_name: "Augusta", firstName: "Ada" }).traits).toEqual({ firstName: "Ada" });
  });

  it("is idempotent: normalizing normalized traits changes nothing", () => {
    const value = fc.oneof(fc.string(), fc.integer(), fc.constantFrom("+33 6 12 34 56 78", "France", "1990-05-17", " A  b "));
    const name = fc.constantFrom("email", "phone", "first_name", "lastName", "country", "birthday", "plan", "createdAt");
    fc.assert(
      fc.property(fc.dictionary(name, value), (raw) => {
        const once = normalizeTraits(raw, { defaultPhoneCountry: "FR" });
        const twice = normalizeTraits(once.traits, { defaultPhoneCountry: "FR" });
        expect(twice.traits).toEqual(once.traits);
      }),
      { numRuns: 300 },
    );
  });
});
