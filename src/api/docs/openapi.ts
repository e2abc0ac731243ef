/**
 * `/openapi.json`: the operations the app's routes registered (`route()`, ../route.ts) over the
 * hand-written ones of routes not yet moved to it, one security scheme list, one `Problem` schema.
 */
import type { App } from "../app";
import { handWrittenDocument } from "./document";

type Paths = Record<string, Record<string, unknown>>;

export function openApiDocument(app: App, serverUrl: string) {
  const base = handWrittenDocument(serverUrl);
  const generated = app.getOpenAPI31Document({ openapi: base.openapi, info: base.info, servers: base.servers });
  const paths: Paths = { ...(base.paths as Paths) };
  for (const [path, operations] of Object.entries((generated.paths ?? {}) as Paths)) paths[path] = { ...paths[path], ...operations };
  return { ...base, paths };
}
