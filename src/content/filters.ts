/**
 * Liquid filters for email content, on top of liquidjs's standard ones (`date`, `escape`,
 * `json`, `slice`…). Each is pure and forgiving: a value it cannot use renders as empty text
 * rather than failing the block.
 *
 *   {{ product.price | money: product.currency }}     → "€1,234.50" (in the customer's locale)
 *   {{ cart.item_count | pluralize: "item", "items" }} → "3 items"
 *   {{ product.image_url | image_size: 300 }}          → the image URL asking for 300 px
 *   {{ cart.reserved_until | countdown }}              → "01:59:07" until then (00:00:00 after)
 *   {{ "nps" | survey_url: "9" }}                      → the customer's one-click answer link (surveys)
 */
import type { FilterImplOptions } from "liquidjs";
import { numberOf as finite } from "../kernel/values";

const DEFAULT_LOCALE = "en-US";

const numberOf = (v: unknown): number | null => finite(v) ?? null;

/** A locale Intl accepts, or the default (customers' locales come from their browsers, unchecked). */
function usableLocale(locale: unknown): string {
  if (typeof locale !== "string" || locale === "") return DEFAULT_LOCALE;
  try {
    return Intl.getCanonicalLocales(locale.replace("_", "-"))[0] ?? DEFAULT_LOCALE;
  } catch {
    return DEFAULT_LOCALE;
  }
}

const formats = new Map<string, Intl.NumberFormat>();
/** Intl.NumberFormat is slow to build and pure to use: one per locale and currency per isolate. */
function moneyFormat(locale: string, currency: string): Intl.NumberFormat {
  const key = `${locale}|${currency}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, { style: "currency", currency });
    if (formats.size > 1000) formats.clear();
    formats.set(key, format);
  }
  return format;
}

export function money(value: unknown, currency: unknown, locale: unknown): string {
  const amount = numberOf(value);
  if (amount === null) return "";
  const code = typeof currency === "string" && /^[A-Za-z]{3}$/.test(currency) ? currency.toUpperCase() : "USD";
  try {
    return moneyFormat(usableLocale(locale), code).format(amount);
  } catch {
    return `${amount.toFixed(2)} ${code}`;
  }
}

export function pluralize(value: unknown, singular: unknown, plural: unknown): string {
  const n = numberOf(value) ?? 0;
  const one = typeof singular === "string" ? singular : "";
  const many = typeof plural === "string" ? plural : `${one}s`;
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Asks an image CDN for a width: Shopify's CDN and most image services read `width`; Cloudflare
 * Images URLs (`/cdn-cgi/image/<options>/…`) carry it in the path.
 */
export function imageSize(url: unknown, width: unknown): string {
  if (typeof url !== "string" || url === "") return "";
  const w = numberOf(width);
  if (w === null || w <= 0) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  const px = String(Math.round(w));
  const cdn = parsed.pathname.match(/^\/cdn-cgi\/image\/([^/]*)\//);
  if (cdn) {
    const options = (cdn[1] ?? "").split(",").filter((o) => o && !o.startsWith("width="));
    parsed.pathname = parsed.pathname.replace(/^\/cdn-cgi\/image\/[^/]*\//, `/cdn-cgi/image/${[`width=${px}`, ...options].join(",")}/`);
  } else {
    parsed.searchParams.set("width", px);
  }
  return parsed.toString();
}

/** Time left until `end` as HH:MM:SS (hours may exceed 24), at `now` (ms). */
export function countdown(end: unknown, now: number): string {
  const at = typeof end === "number" ? end : typeof end === "string" ? Date.parse(end) : NaN;
  if (!Number.isFinite(at)) return "";
  const left = Math.max(0, Math.floor((at - now) / 1000));
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(Math.floor(left / 3600))}:${pad(Math.floor(left / 60) % 60)}:${pad(left % 60)}`;
}

/** The filters, reading the customer's locale and the render time from the template scope. */
export const FILTERS: Record<string, FilterImplOptions> = {
  money(value: unknown, currency?: unknown) {
    return money(value, currency, this.context.getSync(["locale"]));
  },
  pluralize(value: unknown, singular?: unknown, plural?: unknown) {
    return pluralize(value, singular, plural);
  },
  image_size(url: unknown, width?: unknown) {
    return imageSize(url, width);
  },
  /** The answer link of a survey for the customer the block renders for, carrying the message's ids. */
  survey_url(survey: unknown, answer: unknown) {
    const base = this.context.getSync(["survey_base"]);
    const query = this.context.getSync(["link_query"]);
    if (typeof base !== "string" || typeof query !== "string" || typeof survey !== "string" || (typeof answer !== "string" && typeof answer !== "number")) return "";
    return `${base}${encodeURIComponent(survey)}/${encodeURIComponent(String(answer))}?${query}`;
  },
  countdown(end: unknown) {
    const now = this.context.getSync(["now_ms"]);
    return countdown(end, typeof now === "number" ? now : Date.now());
  },
};
