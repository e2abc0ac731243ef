/**
 * One definition per route: its method and path, who may call it, what it reads and what it
 * answers. `route()` registers the handler with the auth its scope needs, validates the declared
 * path parameters, query and body with zod (400s naming each field, bodies bounded in size and
 * depth) and adds the operation to the app's OpenAPI registry, so `/openapi.json` is written from
 * the same definition the request is checked against.
 */
import type { RouteConfig } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import type { App } from "./app";
import { READ_KINDS, requireKey } from "./auth";
import type { AppEnv } from "./context";
import { jsonBody, optionalJsonBody, parseInput } from "./validation";

/**
 * Who may call a route. `admin` and `read` are checked by key before the handler runs; `write`
 * routes take the write key in the Authorization header or the body (Segment's convention) and
 * check it themselves; `signed` routes verify a signature or token of their own (webhooks, email
 * links); `public` routes serve what anyone may see (the tag, the docs, liveness).
 */
export type Scope = "admin" | "read" | "write" | "signed" | "public";

export const SECURITY: Record<Scope, NonNullable<RouteConfig["security"]>> = {
  admin: [{ adminKey: [] }],
  read: [{ readKey: [] }, { adminKey: [] }],
  write: [{ writeKeyBasic: [] }, { writeKeyInBody: [] }],
  signed: [],
  public: [],
};

/** A response: its description, and for JSON answers the schema of the body. */
export type ResponseSpec = string | { description: string; schema?: z.ZodType | object; contentType?: string; headers?: Record<string, string> };

type ZodObjectLike = z.ZodObject<z.ZodRawShape>;

/** The `{id}` of most resource paths, when any string may be looked up (404 if nothing has it). */
export const IdParam = z.object({ id: z.string() });

export interface RouteSpec<B extends z.ZodType | undefined, Q extends ZodObjectLike | undefined, P extends ZodObjectLike | undefined> {
  method: "get" | "post" | "put" | "patch" | "delete";
  /** OpenAPI spelling: `/v1/triggers/{id}`. */
  path: string;
  /** Other paths the same handler serves (short ingest paths, the design card's spelling). */
  aliases?: readonly string[];
  /** The router's pattern, when the documented path is not one Hono can match (`{block}.{format}`). */
  routerPath?: string;
  tag: string;
  summary: string;
  scope: Scope;
  /** For `signed` and `public` routes: what verifies the caller, or why nobody needs to be. */
  auth?: string;
  params?: P;
  query?: Q;
  body?: B;
  /** An empty body is `{}` (the body's fields are all optional). */
  bodyOptional?: boolean;
  /**
   * A body the handler reads itself, documented but not parsed here: signed webhooks verify the
   * bytes as sent, ingest reads compressed bodies and keeps what it refuses.
   */
  rawBody?: { schema: z.ZodType | object; contentType?: string };
  responses: Record<number, ResponseSpec>;
}

export type RouteInput<B, Q, P> = {
  body: B extends z.ZodType ? z.output<B> : undefined;
  /** Only what the route declares: undeclared queries are not parsed (ingest and profile reads are hot). */
  query: Q extends z.ZodType ? z.output<Q> : Record<string, never>;
  params: P extends z.ZodType ? z.output<P> : Record<string, string>;
};

type Handler<B, Q, P> = (c: Context<AppEnv>, input: RouteInput<B, Q, P>) => Response | Promise<Response>;

const KEY_CHECK = { admin: requireKey("admin"), read: requireKey(...READ_KINDS) } as const;

export function route<B extends z.ZodType | undefined = undefined, Q extends ZodObjectLike | undefined = undefined, P extends ZodObjectLike | undefined = undefined>(app: App, spec: RouteSpec<B, Q, P>, handler: Handler<B, Q, P>): void {
  app.openAPIRegistry.registerPath(operation(spec));
  const keyCheck = spec.scope === "admin" || spec.scope === "read" ? [KEY_CHECK[spec.scope]] : [];
  const paths = [spec.routerPath ?? honoPath(spec.path), ...(spec.aliases ?? []).map(honoPath)];
  app.on([spec.method.toUpperCase()], paths, ...keyCheck, async (c) => {
    const params = spec.params ? parseInput(spec.params, c.req.param(), "path parameters") : c.req.param();
    const query = spec.query ? parseInput(spec.query, c.req.query(), "query parameters") : {};
    const body = spec.body ? parseInput(spec.body, spec.bodyOptional ? await optionalJsonBody(c) : await jsonBody(c), "request body") : undefined;
    return handler(c, { body, query, params } as RouteInput<B, Q, P>);
  });
}

/** `/v1/triggers/{id}` → `/v1/triggers/:id`. */
export const honoPath = (path: string) => path.replace(/\{([A-Za-z]+)\}/g, ":$1");

/** JSON Schema of a zod schema as a client writes it (zod 4's own converter). */
export const jsonSchema = (s: z.ZodType | object) => (s instanceof z.ZodType ? z.toJSONSchema(s, { io: "input", unrepresentable: "any" }) : s);

function operation(spec: RouteSpec<z.ZodType | undefined, ZodObjectLike | undefined, ZodObjectLike | undefined>): RouteConfig {
  const pathNames = [...spec.path.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1]!);
  const parameters = [
    ...pathNames.map((name) => ({ name, in: "path" as const, required: true, schema: jsonSchema(spec.params?.shape[name] ?? z.string()) })),
    ...Object.entries(spec.query?.shape ?? {}).map(([name, s]) => ({ name, in: "query" as const, required: !(s as z.ZodType).safeParse(undefined).success, schema: jsonSchema(s as z.ZodType) })),
  ];
  const responses: RouteConfig["responses"] = {};
  const declared = { ...defaultResponses(spec), ...spec.responses };
  for (const [status, r] of Object.entries(declared)) responses[status] = response(Number(status), r) as RouteConfig["responses"][string];
  return {
    method: spec.method,
    path: spec.path,
    tags: [spec.tag],
    summary: spec.summary,
    security: SECURITY[spec.scope],
    "x-rapport-scope": spec.scope,
    ...(spec.auth ? { "x-rapport-auth": spec.auth } : {}),
    ...(spec.aliases ? { "x-rapport-aliases": spec.aliases } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(spec.body ? { request: { body: { required: !spec.bodyOptional, content: { "application/json": { schema: jsonSchema(spec.body) } } } } } : {}),
    ...(spec.rawBody ? { request: { body: { required: true, content: { [spec.rawBody.contentType ?? "application/json"]: { schema: jsonSchema(spec.rawBody.schema) } } } } } : {}),
    responses,
  } as RouteConfig;
}

function defaultResponses(spec: RouteSpec<z.ZodType | undefined, ZodObjectLike | undefined, ZodObjectLike | undefined>): Record<number, ResponseSpec> {
  const out: Record<number, ResponseSpec> = {};
  if (spec.body || spec.query || spec.params) out[400] = "Invalid input: each field at fault is named";
  if (spec.scope === "admin") out[401] = "No valid admin key";
  if (spec.scope === "read") out[401] = "No valid read key (whether or not what is asked for exists)";
  return out;
}

function response(status: number, r: ResponseSpec) {
  const { description, schema, contentType, headers } = typeof r === "string" ? { description: r } : r;
  const type = contentType ?? (status >= 400 ? "application/problem+json" : "application/json");
  const body = status >= 400 ? { $ref: "#/components/schemas/Problem" } : schema ? jsonSchema(schema) : undefined;
  return {
    description,
    ...(headers ? { headers: Object.fromEntries(Object.entries(headers).map(([name, d]) => [name, { description: d, schema: { type: "string" } }])) } : {}),
    ...(body || status >= 400 ? { content: { [type]: { schema: body ?? {} } } } : {}),
  };
}
