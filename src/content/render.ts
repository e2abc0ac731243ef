/**
 * Renders a block for a customer in one format. Targets hold compiled definitions (CSS inlined). Whatever goes wrong (unknown customer, a link
 * that does not verify, a template error, missing data, the time budget) the answer is the
 * block's fallback, never an error: an email must not show a broken block, and the answer must
 * not say whether a customer exists.
 */
import { personalizationAllowed } from "./consent";
import type { Liquid } from "liquidjs";
import { popularIds, catalogProducts } from "../catalog/read-cache";
import { readConfig } from "../model/config";
import { BudgetExceeded, withinBudget } from "../kernel/concurrency";
import { log } from "../kernel/log";
import type { CustomerProfile } from "../profiles/document";
import { findCustomer } from "../profiles/read";
import { compileBlock } from "./css";
import type { BlockDefinition, Format } from "./definition";
import { enginesFor, templateName } from "./engine";
import { svgToPng } from "./image";
import { contentToken } from "./links";
import type { LoadedManifest } from "./manifest";
import { productIdsOf, productsFor, recommend, type ProductCard, type Recommendations } from "./recommendations";
import { templateScope } from "./scope";

export const CONTENT_TYPES: Record<Format, string> = {
  html: "text/html; charset=utf-8",
  json: "application/json",
  svg: "image/svg+xml",
  png: "image/png",
};

export interface RenderTarget {
  id: string;
  version: number;
  definition: BlockDefinition;
  markup: Liquid;
  json: Liquid;
}

/** A published block, or null. */
export function publishedTarget(manifest: LoadedManifest, id: string): RenderTarget | null {
  const block = manifest.blocks[id];
  return block ? { id, version: block.version, definition: block.definition, markup: manifest.markup, json: manifest.json } : null;
}

/**
 * A block version that may not be published (previews): its templates with the published
 * partials, in engines of its own (parsed per preview; previews are not the hot path).
 */
export function draftTarget(manifest: LoadedManifest, id: string, version: number, definition: BlockDefinition): RenderTarget {
  const compiled = compileBlock(definition);
  // The published blocks, with this draft in place of this block's published version.
  const blocks = Object.fromEntries(Object.entries(manifest.blocks).map(([other, b]) => [other, b.definition]));
  return { id, version, definition: compiled, ...enginesFor({ ...blocks, [id]: compiled }) };
}

/** Can this block be served in this format at all? (An image format needs an image.) */
export const servesFormat = (d: BlockDefinition, format: Format) => (format === "svg" || format === "png" ? d.image !== undefined : true);

export interface Rendered {
  body: string | Uint8Array;
  contentType: string;
  /** Why the fallback was served (for logs and previews; never sent to ESPs). */
  fallback: string | null;
}

export interface RenderOptions {
  /** The customer ref the link proved, or null (no or bad credential: fallback). */
  customerRef: string | null;
  /** Absolute origin for click-time links. */
  origin: string;
  now?: number;
  waitUntil?: (p: Promise<unknown>) => void;
}

export async function renderBlock(env: Env, target: RenderTarget, format: Format, options: RenderOptions): Promise<Rendered> {
  const config = readConfig(env);
  const now = options.now ?? Date.now();
  if (options.customerRef === null) return fallbackOf(target, format, "unverified");
  const ref = options.customerRef;
  try {
    const body = await withinBudget(config.contentRenderBudgetMs, renderFor(env, target, format, ref, options.origin, now, options.waitUntil));
    if (body === null) return fallbackOf(target, format, "unknown_customer");
    if (body === CONSENT_DECLINED) return fallbackOf(target, format, "consent");
    return { body, contentType: CONTENT_TYPES[format], fallback: null };
  } catch (err) {
    const reason = err instanceof BudgetExceeded ? "budget" : "render_error";
    log("warn", "content.fallback", { block: target.id, version: target.version, format, reason, error: err instanceof Error ? err.message : String(err) });
    return fallbackOf(target, format, reason);
  }
}

/** What a block shows a customer: their profile, recommendations, the block's products, the token. */
export interface CustomerContent {
  customerId: string;
  profile: CustomerProfile | null;
  recommendations: Recommendations;
  products: ProductCard[];
  token: string | null;
}

/**
 * The products of a block for a customer (null ref: nobody in particular, so popular products
 * only). Null when the ref names no customer.
 */
export async function customerContent(env: Env, target: RenderTarget, ref: string | null, now: number, waitUntil?: (p: Promise<unknown>) => void): Promise<CustomerContent | null> {
  const found = ref === null ? null : await findCustomer(env, ref, waitUntil);
  if (ref !== null && !found) return null;
  const profile = found ? (JSON.parse(found.body) as CustomerProfile) : null;
  const session = profile?.session ?? null;
  const popular = await popularIds(env.DB, now);
  const catalog = await catalogProducts(env.DB, productIdsOf(session, popular), now);
  const { products: settings } = target.definition;
  const recommendations = recommend(session, catalog, popular, { limit: 24, inStockOnly: settings.inStockOnly });
  return {
    customerId: found?.id ?? "",
    profile,
    recommendations,
    products: productsFor(settings.source, recommendations, settings.limit),
    token: found ? await contentToken(readConfig(env).contentSecrets, found.id) : null,
  };
}

/** What renderFor answers for a customer who declined personalization (content/consent.ts). */
const CONSENT_DECLINED = Symbol("consent declined");

async function renderFor(env: Env, target: RenderTarget, format: Format, ref: string, origin: string, now: number, waitUntil?: (p: Promise<unknown>) => void): Promise<string | Uint8Array | null | typeof CONSENT_DECLINED> {
  const config = readConfig(env);
  const content = await customerContent(env, target, ref, now, waitUntil);
  if (!content?.profile || !content.token) return null;
  if (!personalizationAllowed(content.profile, config.contentConsentCategories)) return CONSENT_DECLINED;
  const token = content.token;
  const scope = templateScope({
    profile: content.profile,
    recommendations: content.recommendations,
    products: content.products,
    clickUrl: (i) => `${origin}/v1/r/${target.id}/${i}?t=${encodeURIComponent(token)}`,
    contentToken: token,
    block: { id: target.id, version: target.version },
    now,
    cartReservationMinutes: config.cartReservationMinutes,
  });
  // Partials (`{% render %}`) see only what they are passed, plus these. Rendering is synchronous:
  // templates, partials and filters are all in memory, and liquidjs's sync path is several times
  // faster than its async one (no promise per tag).
  const options = { globals: { locale: scope.locale, now_ms: now } };
  switch (format) {
    case "html":
      return target.markup.renderFileSync(templateName.html(target.id), scope, options) as string;
    case "json": {
      if (!target.definition.json) return JSON.stringify({ items: scope.products });
      const text = target.json.renderFileSync(templateName.json(target.id), scope, options) as string;
      // Broken JSON would break the ESP's template or the amp-list: serve the fallback instead.
      return JSON.stringify(JSON.parse(text));
    }
    case "svg":
      return target.markup.renderFileSync(templateName.svg(target.id), scope, options) as string;
    case "png":
      return svgToPng(target.markup.renderFileSync(templateName.svg(target.id), scope, options) as string, target.definition.image!.width);
  }
}

/** A blank image of the block's size: neutral, whatever the mail client puts around it. */
const blankSvg = (w: number, h: number) => `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"></svg>`;

const fallbackPngs = new Map<string, Uint8Array>();

export async function fallbackOf(target: RenderTarget, format: Format, reason: string): Promise<Rendered> {
  const d = target.definition;
  const svg = () => d.image?.fallbackSvg ?? blankSvg(d.image?.width ?? 1, d.image?.height ?? 1);
  let body: string | Uint8Array;
  switch (format) {
    case "html":
      body = d.fallback;
      break;
    case "json":
      body = JSON.stringify({ items: [] });
      break;
    case "svg":
      body = svg();
      break;
    case "png": {
      // The same fallback image for every bad link: rendered once per block version per isolate.
      const key = `${target.id}@${target.version}`;
      let png = fallbackPngs.get(key);
      if (!png) {
        png = await svgToPng(svg(), d.image?.width ?? 1);
        if (fallbackPngs.size > 500) fallbackPngs.clear();
        fallbackPngs.set(key, png);
      }
      body = png;
      break;
    }
  }
  return { body, contentType: CONTENT_TYPES[format], fallback: reason };
}
