/**
 * `GET /tag.js`: the storefront tag (tag.js.txt: analytics.js-style calls, anonymous id cookie,
 * batching, sendBeacon, retries while offline, consent, e-commerce helpers). Public and cacheable;
 * it carries no key (the page's snippet gives the write key, which may only ingest).
 */
import type { App } from "../api/app";
import { route } from "../api/route";
import tagSource from "./tag.js.txt";

const ETAG = `"tag-${tagSource.length.toString(36)}-${[...tagSource].reduce((h, ch) => (Math.imul(h, 31) + ch.charCodeAt(0)) | 0, 7).toString(36)}"`;

export function registerTagRoutes(app: App): void {
  const spec = {
    method: "get",
    path: "/tag.js",
    tag: "Sources",
    scope: "public",
    auth: "The storefront's pages load it; it carries no key (the page gives the write key)",
    summary: "The storefront tag: a script that sends page views, identifies and track calls to the tracking API (docs/tag.md)",
    responses: { 200: { description: "The script", contentType: "application/javascript" }, 304: "Not modified (ETag)" },
  } as const;
  route(app, spec, (c) => {
    const headers = { etag: ETAG, "cache-control": "public, max-age=300", "access-control-allow-origin": "*" };
    if (c.req.header("if-none-match") === ETAG) return c.body(null, 304, headers);
    return c.body(tagSource, 200, { ...headers, "content-type": "application/javascript; charset=utf-8" });
  });
}
