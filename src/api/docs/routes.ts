/** `GET /openapi.json` and a self-contained docs page (no CDN: it works offline and locally). */
import type { App } from "../app";
import { route } from "../route";
import { openApiDocument } from "./openapi";
import { docsPage } from "./page";

const TAG = "Reference";

export function registerDocsRoutes(app: App): void {
  route(app, { method: "get", path: "/openapi.json", tag: TAG, scope: "public", auth: "The API's description holds no data", summary: "This API reference, as OpenAPI 3.1", responses: { 200: "The document" } }, (c) =>
    c.json(openApiDocument(app, new URL(c.req.url).origin)),
  );
  route(app, { method: "get", path: "/docs", tag: TAG, scope: "public", auth: "The API's description holds no data", summary: "This API reference, as a page", responses: { 200: { description: "The page", contentType: "text/html" } } }, (c) => c.html(docsPage()));
  route(app, { method: "get", path: "/health", tag: TAG, scope: "public", auth: "Says only that the worker runs", summary: "Liveness: answers when the worker runs", responses: { 200: "ok" } }, (c) => c.json({ ok: true }));
}
