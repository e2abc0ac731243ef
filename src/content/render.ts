/**
 * Renders a block for a customer in one format. Targets hold compiled definitions (CSS inlined). Whatever goes wrong (unknown customer, a link
 * that does not verify, a template error, missing data, the time budget) the answer is the
 * block's fallback, never an error: an email must not show a broken block, and the answer must
 * not say whether a customer exists.
 */
import type { MessageRefs } from "./message-refs";
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
import { chooseVariant, type Choice } from "../experiments/serving";

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
  /** The experiment variant shown, for whom (the route records exposures and names the variant). */
  shown?: Shown;
}

/** An experiment's variant as a render showed it to a customer. */
export interface Shown extends Choice {
  customerId: string;
  profile: CustomerProfile;
  /** The profile already records an exposure to this experiment (nothing new to record). */
  exposedBefore: boolean;
}

export interface RenderOptions {
  /** The customer ref the link proved, or null (no or bad credential: fallback). */
  customerRef: string | null;
  /** Absolute origin for click-time links. */
  origin: string;
  now?: number;
  waitUntil?: (p: Promise<unknown>) => void;
  /** The manifest the target came from: its experiments decide the variant (previews leave it out). */
  manifest?: LoadedManifest;
  /** The message the content is fetched for (`m`, `d`, `tr` on the content URL): carried into its links and pixel. */
  refs?: MessageRefs;
}

export async function renderBlock(env: Env, target: RenderTarget, format: Format, options: RenderOptions): Promise<Rendered> {
  const config = readConfig(env);
  if (options.customerRef === null) return fallbackOf(target, format, "unverified");
  const ref = options.customerRef;
  try {
    const out = await withinBudget(config.contentRenderBudgetMs, renderFor(env, target, format, ref, options));
    if (out === null) return fallbackOf(target, format, "unknown_customer");
    if (out === CONSENT_DECLINED) return fallbackOf(target, format, "consent");
    // The holdout sees what anyone unknown would: the block's non-personalized fallback.
    if (out.body === null) return { ...(await fallbackOf(target, format, "holdout")), ...(out.shown ? { shown: out.shown } : {}) };
    return { body: out.body, contentType: CONTENT_TYPES[format], fallback: null, ...(out.shown ? { shown: out.shown } : {}) };
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

/**
 * The variant of the block's experiment this customer sees (null: no experiment on the block), and
 * the target and products that render it. A variant naming a block that is not published renders
 * the experiment's own block.
 */
export function variantOf(manifest: LoadedManifest | undefined, target: RenderTarget, content: CustomerContent & { profile: CustomerProfile }): { shown: Shown; target: RenderTarget; products: ProductCard[] } | null {
  const experiment = manifest?.experiments?.[target.id];
  if (!experiment) return null;
  const exposed = content.profile.experiments?.[experiment.id]?.variant;
  const choice = chooseVariant(experiment, content.customerId, exposed);
  const shown: Shown = { ...choice, customerId: content.customerId, profile: content.profile, exposedBefore: exposed !== undefined };
  const variantTarget = choice.block === target.id ? target : (publishedTarget(manifest, choice.block) ?? target);
  if (variantTarget === target) return { shown, target, products: content.products };
  const { source, limit } = variantTarget.definition.products;
  return { shown, target: variantTarget, products: productsFor(source, content.recommendations, limit) };
}

async function renderFor(env: Env, target: RenderTarget, format: Format, ref: string, options: RenderOptions): Promise<{ body: string | Uint8Array | null; shown?: Shown } | null | typeof CONSENT_DECLINED> {
  const config = readConfig(env);
  const { origin } = options;
  const now = options.now ?? Date.now();
  const content = await customerContent(env, target, ref, now, options.waitUntil);
  if (!content?.profile || !content.token) return null;
  if (!personalizationAllowed(content.profile, config.contentConsentCategories)) return CONSENT_DECLINED;
  const token = content.token;
  // The message's ids travel on into the links, so its clicks and opens are counted for it.
  const refs = new URLSearchParams(Object.entries({ m: options.refs?.messageId, d: options.refs?.deliveryId, tr: options.refs?.triggerId }).filter((e): e is [string, string] => e[1] !== undefined)).toString();
  const linkQuery = `t=${encodeURIComponent(token)}${refs ? `&${refs}` : ""}`;
  const pixelUrl = `${origin}/v1/o/${target.id}?${linkQuery}`;
  const variant = variantOf(options.manifest, target, { ...content, profile: content.profile });
  if (variant?.shown.holdout) return { body: null, shown: variant.shown };
  const shown = variant?.shown;
  // A variant's block that has no image (or JSON) for this format: the experiment's block renders it.
  const view = variant && servesFormat(variant.target.definition, format) ? variant.target : target;
  const scope = templateScope({
    profile: content.profile,
    recommendations: content.recommendations,
    products: variant?.products ?? content.products,
    // Links name the block the email names: the click is decided (and attributed) through it.
    clickUrl: (i) => `${origin}/v1/r/${target.id}/${i}?${linkQuery}`,
    pixelUrl,
    contentToken: token,
    block: { id: view.id, version: view.version },
    experiment: shown ? { id: shown.experiment, variant: shown.variant, slots: shown.slots, pixel_url: pixelUrl } : null,
    now,
    cartReservationMinutes: config.cartReservationMinutes,
  });
  // Partials (`{% render %}`) see only what they are passed, plus these. Rendering is synchronous:
  // templates, partials and filters are all in memory, and liquidjs's sync path is several times
  // faster than its async one (no promise per tag).
  // Survey links (the survey_url filter) are the customer's and the message's, in partials too.
  const renderOptions = { globals: { locale: scope.locale, now_ms: now, survey_base: `${origin}/v1/s/`, link_query: linkQuery } };
  const body = renderFormat(view, format, scope, renderOptions);
  return { body: body instanceof Promise ? await body : body, ...(shown ? { shown } : {}) };
}

function renderFormat(view: RenderTarget, format: Format, scope: Record<string, unknown>, options: { globals: Record<string, unknown> }): string | Promise<Uint8Array> {
  switch (format) {
    case "html":
      return view.markup.renderFileSync(templateName.html(view.id), scope, options) as string;
    case "json": {
      // The default JSON names the variant, so an ESP can take its subject line from it.
      if (!view.definition.json) return JSON.stringify({ items: scope.products, ...(scope.experiment ? { experiment: scope.experiment } : {}) });
      const text = view.json.renderFileSync(templateName.json(view.id), scope, options) as string;
      // Broken JSON would break the ESP's template or the amp-list: serve the fallback instead.
      return JSON.stringify(JSON.parse(text));
    }
    case "svg":
      return view.markup.renderFileSync(templateName.svg(view.id), scope, options) as string;
    case "png":
      return svgToPng(view.markup.renderFileSync(templateName.svg(view.id), scope, options) as string, view.definition.image!.width);
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
