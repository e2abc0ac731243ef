/**
 * Which country a phone number written without a country code (`06 12 34 56 78`) is read in, from
 * what the event says about the customer, most specific first:
 * 1. the country of the address (or `country` trait) sent with it;
 * 2. the country the customer's browser called from: `context.location.country`, which the edge
 *    adds to requests a browser makes (ingest/enrich.ts) unless the client gave its own. A
 *    server's request says where the server is, not the customer, so it gives no country;
 * 3. `DEFAULT_PHONE_COUNTRY`.
 * Numbers with a country code (`+33…`, `0033…`) are read as written, whatever these say.
 */
import type { StoredEvent } from "../model/events";
import { canonicalTraitName, normalizeCountry } from "./normalize";

export function phoneCountryOf(event: StoredEvent, defaultCountry: string | undefined): string | undefined {
  const traits = event.type === "identify" ? event.traits : (event.context?.traits as Record<string, unknown> | undefined);
  return addressCountry(traits) ?? countryOf((event.context?.location as { country?: unknown } | undefined)?.country) ?? defaultCountry;
}

function addressCountry(traits: Record<string, unknown> | undefined): string | undefined {
  if (!traits || typeof traits !== "object") return undefined;
  let address: unknown;
  let country: unknown;
  for (const [key, value] of Object.entries(traits)) {
    const name = canonicalTraitName(key);
    if (name === "address") address = value;
    else if (name === "country") country = value;
  }
  const fromAddress = address && typeof address === "object" ? (address as { country?: unknown }).country : undefined;
  return countryOf(fromAddress) ?? countryOf(country);
}

function countryOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const country = normalizeCountry(value);
  return country.ok ? (country.value as string) : undefined;
}
