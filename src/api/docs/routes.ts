/** `GET /openapi.json` and a self-contained docs page (no CDN: it works offline and locally). */
import type { App } from "../app";
import { openApiDocument } from "./openapi";
import { docsPage } from "./page";

export function registerDocsRoutes(app: App): void {
  app.get("/openapi.json", (c) => c.json(openApiDocument(app, new URL(c.req.url).origin)));
  app.get("/docs", (c) => c.html(docsPage()));
}
