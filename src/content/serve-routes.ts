/**
 * What emails call, without API keys:
 *
 * - `GET /v1/content/{block}.{html|json|svg|png}`: the block rendered for the customer the link
 *   names (`t=<token>`, or `c=<ref>&exp=&sig=`; or a read key with `customer=<ref>`). HTML and
 *   JSON at send time (Braze Connected Content, Customer.io, Klaviyo web feeds, AMP amp-list),
 *   images at open time.
 * - `GET /v1/r/{block}/{slot}`: a click-time link, decided when clicked (302).
 *
 * A missing or bad credential, an unknown customer or a failed render all answer the same
 * fallback with the same status and headers: the answer never says whether a customer exists.
 */
import { personalizationAllowed } from "./consent";
import type { Context } from "hono";
import { z } from "zod";
import type { App } from "../api/app";
import { route } from "../api/route";
import { readConfig } from "../model/config";
import { sha256Hex } from "../kernel/crypto";
import { authenticate, keyFromAuthorization, READ_KINDS } from "../api/auth";
import type { AppEnv } from "../api/context";
import { ApiError } from "../kernel/errors";
import { log } from "../kernel/log";
import { ampHeaders } from "./amp";
import { clickDestination } from "./clicks";
import { recordClick } from "../ingest/email-click";
import { messageRefsOf } from "./message-refs";
import { FORMATS, type Format } from "./definition";
import { TRANSPARENT_PNG } from "./image";
import { verifyContentSignature, verifyContentToken } from "./links";
import { currentManifest } from "./manifest";
import { customerContent, fallbackOf, publishedTarget, renderBlock, servesFormat, variantOf, type Rendered } from "./render";
import { classifyRequester, isPrefetch } from "./requesters";
import { exposeIfFirst, variantHeaders } from "./exposure-routes";

/** The customer ref a request's credential proves, or null. A bad read key is a 401 (it says nothing about customers). */
export async function provenRef(c: Context<AppEnv>, block: string): Promise<string | null> {
  const { contentSecrets } = readConfig(c.env);
  const q = c.req.query();
  if (q.t) return verifyContentToken(contentSecrets, q.t);
  if (q.c && q.sig) return (await verifyContentSignature(contentSecrets, block, q.c, q.exp, q.sig)) ? q.c : null;
  const key = keyFromAuthorization(c.req.header("authorization"));
  if (key !== null) {
    await authenticate(c.env, key, READ_KINDS);
    return q.customer ?? null;
  }
  return null;
}

export const NO_STORE = { "cache-control": "no-store, no-cache, must-revalidate, max-age=0", pragma: "no-cache", expires: "0" };

function cacheHeaders(format: Format, rendered: Rendered, maxAge: number, amp: boolean): Record<string, string> {
  // Open-time images must be fetched at each open (a proxy serving yesterday's countdown is
  // wrong), and a fallback must not be kept (the customer may exist a minute later).
  if (format === "svg" || format === "png" || rendered.fallback !== null) return NO_STORE;
  // AMP content is fetched when the email is opened and must be current.
  if (amp) return { "cache-control": "private, no-cache" };
  return { "cache-control": `private, max-age=${maxAge}` };
}

/** Who the link is for: the customer's content token, a signed ref, or a ref with a read key. */
export const LinkQuery = z.object({
  t: z.string().optional().describe("The customer's content token (profile `contentToken`)"),
  c: z.string().optional().describe("A customer ref, with `sig` (hex HMAC-SHA256 of `<block>:<c>:<exp>`) and optional `exp` (unix seconds)"),
  sig: z.string().optional(),
  exp: z.string().optional(),
  customer: z.string().optional().describe("A customer ref, with a read key only"),
});
export const AUTH = "The content token or signature in the link (or a read key with `customer`); an unproven link gets the block's fallback, never another customer's content";

export function registerContentServeRoutes(app: App): void {
  route(
    app,
    {
      method: "get",
      path: "/v1/content/{block}.{format}",
      routerPath: "/v1/content/:file",
      tag: "Content",
      scope: "signed",
      auth: AUTH,
      summary: "A block rendered for the customer the link names: html and json at send time (ESP connected content, AMP amp-list), svg and png at open time. Any failure serves the block's fallback (200).",
      query: LinkQuery,
      responses: { 200: { description: "The rendered block, or its fallback", contentType: "text/html" }, 304: "Not modified (ETag)", 404: "No such published block or format" },
    },
    serveBlock,
  );

  route(
    app,
    {
      method: "get",
      path: "/v1/r/{block}/{slot}",
      tag: "Content",
      scope: "signed",
      auth: AUTH,
      summary: "Click-time link: the block's product in that slot as it is now (or the next, or the block's fallback URL); records an Email Link Clicked event",
      query: LinkQuery,
      responses: { 302: "To the destination", 404: "No such published block" },
    },
    followClick,
  );

}

/** A published block rendered for the customer the link proves, or its fallback. */
async function serveBlock(c: Context<AppEnv>): Promise<Response> {
  const file = c.req.param("file")!;
  const dot = file.lastIndexOf(".");
  const id = file.slice(0, dot);
  const format = file.slice(dot + 1) as Format;
  if (dot <= 0 || !FORMATS.includes(format)) throw new ApiError("not_found", `No content at ${c.req.path}: ask for <block>.html, .json, .svg or .png`);
  const manifest = await currentManifest(c.env);
  const target = publishedTarget(manifest, id);
  if (!target || !servesFormat(target.definition, format)) throw new ApiError("not_found", `No published block ${id} serves ${format}`);

  const url = new URL(c.req.url);
  const config = readConfig(c.env);
  const isAmp = format === "json" && (c.req.header("amp-email-sender") !== undefined || url.searchParams.has("__amp_source_origin"));
  const amp = format === "json" ? ampHeaders({ headers: c.req.raw.headers, url }, config.ampAllowedSenders) : {};
  const prefetch = (format === "png" || format === "svg") && isPrefetch(c.req.raw.headers);
  const ref = amp === null || prefetch ? null : await provenRef(c, id);

  let rendered: Rendered;
  try {
    rendered = await renderBlock(c.env, target, format, { customerRef: ref, origin: url.origin, waitUntil: (p) => c.executionCtx.waitUntil(p), manifest, refs: messageRefsOf(c.req.query()) });
  } catch (err) {
    // Even the fallback failed (e.g. the image renderer): the smallest neutral answer.
    log("error", "content.fallback_failed", { block: id, format, error: String(err) });
    rendered = format === "png" ? { body: TRANSPARENT_PNG, contentType: "image/png", fallback: "error" } : await fallbackOf(target, format === "svg" ? "svg" : format, "error");
  }
  const headers: Record<string, string> = { "content-type": rendered.contentType, ...cacheHeaders(format, rendered, config.contentMaxAgeSeconds, isAmp), ...(amp ?? {}), ...variantHeaders(rendered.shown) };
  // An open-time image is seen when the email is opened; HTML and JSON are fetched by the ESP at send time.
  if (format === "svg" || format === "png") exposeIfFirst(c, manifest.experiments?.[id], rendered.shown, classifyRequester(c.req.method, c.req.raw.headers), "image");
  if (format === "html" || format === "json") {
    // Same customer, same data, same body: a conditional request costs no body.
    const etag = `"${(await sha256Hex(typeof rendered.body === "string" ? rendered.body : "")).slice(0, 32)}"`;
    headers.etag = etag;
    if (c.req.header("if-none-match") === etag) return c.body(null, 304, headers);
  }
  return c.body(rendered.body as string, 200, headers);
}

/** Where a click goes now: the slot's product as it is at click time, recorded as the customer's click. */
async function followClick(c: Context<AppEnv>): Promise<Response> {
  const id = c.req.param("block")!;
  const slot = Number(c.req.param("slot"));
  const manifest = await currentManifest(c.env);
  const target = publishedTarget(manifest, id);
  if (!target || !Number.isInteger(slot) || slot < 0 || slot > 100) throw new ApiError("not_found", `No published block ${id} with link ${c.req.param("slot")}`);
  const requester = classifyRequester(c.req.method, c.req.raw.headers);
  const ref = await provenRef(c, id);
  const now = Date.now();
  // An unknown or unproven customer still gets somewhere useful: the popular products.
  const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
  const own = ref !== null ? await customerContent(c.env, target, ref, now, waitUntil) : null;
  // A customer who declined personalization goes where anyone would (their click is still theirs).
  const personal = own?.profile && personalizationAllowed(own.profile, readConfig(c.env).contentConsentCategories) ? { ...own, profile: own.profile } : null;
  // The variant the customer was shown decides where its links go; the holdout's go where anyone's would.
  const variant = personal ? variantOf(manifest, target, personal) : null;
  const content = (variant?.shown.holdout ? null : personal) ?? (await customerContent(c.env, target, null, now));
  const products = variant && !variant.shown.holdout ? variant.products : (content?.products ?? []);
  const destination = content ? clickDestination(products, slot, variant && !variant.shown.holdout ? variant.target.definition : target.definition) : null;
  if (!destination) {
    return c.html("<!doctype html><title>No longer available</title><p>This offer is no longer available.</p>", 200, NO_STORE);
  }
  if (own?.profile && requester.kind !== "scanner") {
    const profile = own.profile;
    const shown = variant?.shown;
    const experiment = manifest.experiments?.[id];
    const metric = experiment?.definition.metric;
    const click = { block: id, ...messageRefsOf(c.req.query()), version: target.version, slot, url: destination.url, product: destination.product, userAgent: c.req.header("user-agent") ?? null, ip: c.req.header("cf-connecting-ip") ?? null, requester, ...(shown && metric && shown.counts ? { experiment: { id: shown.experiment, variant: shown.variant, event: metric.event, windowHours: metric.windowHours } } : {}) };
    c.executionCtx.waitUntil(recordClick(c.env, profile, click, c.get("requestId")).catch((err: unknown) => log("error", "content.click_not_recorded", { block: id, error: String(err) })));
    // Someone who clicks has seen the variant, whether or not their client loaded images.
    exposeIfFirst(c, experiment, shown, { kind: "human", reason: requester.reason }, "click");
  }
  c.header("cache-control", NO_STORE["cache-control"]);
  c.header("referrer-policy", "no-referrer");
  return c.redirect(destination.url, 302);
}
