/**
 * The routes every versioned definition shares (triggers, segments, content blocks, computed
 * traits, sources, tracking plans, enrichers), written once: list, `PUT` a new version guarded by
 * `If-Match`, get with its `ETag`, delete, and for those that keep their history, the versions
 * and a rollback. A resource says how it stores, shows and checks its definitions; the answers,
 * status codes, 404s, 409s and 412s are the same for all seven.
 *
 * Register a resource's fixed paths (`/v1/triggers/recipes`) before calling this: Hono tries
 * routes in the order they were added, and `/v1/triggers/{id}` would take them.
 */
import type { Context } from "hono";
import { z } from "zod";
import { ApiError } from "../kernel/errors";
import { isoOrNull } from "../kernel/time";
import type { App } from "./app";
import type { AppEnv } from "./context";
import { IdParam, route } from "./route";
import { ifMatchVersion } from "./validation";
import { saveVersioned } from "./versioned";

interface Versioned {
  id: string;
  version: number;
}

/** What a save answers: the stored definition, whether it is new, and fields to add to the answer (a pass's `runId`). */
export interface Saved<S> {
  stored: S;
  created: boolean;
  extra?: Record<string, unknown>;
}

/** D: the definition; S: a stored definition; L: a row of the list (S unless the list shows less). */
export interface DefinitionResource<D, S extends Versioned, L = S> {
  /** The collection's path: `/v1/triggers`. */
  path: string;
  tag: string;
  /** In messages: `No trigger x`, `Trigger x is at version 3`. */
  noun: string;
  /** The list answer's key: `{ "triggers": [...] }`. */
  listKey: string;
  /** What an id may be, checked when saving (looking up any string is a 404 at worst). */
  id: z.ZodType<string>;
  definition: z.ZodType<D>;
  view: (stored: S) => Record<string, unknown>;
  /** How a list row is shown, when the list reads less than a whole definition (L is not S). */
  listView?: (row: L) => Record<string, unknown>;
  summaries: { list: string; put: string; get: string; delete: string };
  /** More documented answers than the shared ones (a 400 for a rule naming a missing segment). */
  putResponses?: Record<number, string>;
  deleteResponses?: Record<number, string>;
  /** A query the save reads (`?publish=true`). */
  saveQuery?: z.ZodObject<z.ZodRawShape>;
  list(d1: D1Database): Promise<L[]>;
  get(d1: D1Database, id: string): Promise<S | null>;
  /** Checks and saves; `expectedVersion` comes from If-Match. Throws ApiError for a definition it refuses. */
  save(c: Context<AppEnv>, id: string, definition: D, expectedVersion: number | undefined, query: Record<string, unknown>): Promise<Saved<S>>;
  /** False when there was nothing to delete. Throws ApiError (conflict) while something depends on it. */
  delete(c: Context<AppEnv>, id: string): Promise<boolean>;
  /** Resources that keep every version: `GET …/{id}/versions` and `POST …/{id}/rollback`. */
  history?: {
    versions(d1: D1Database, id: string): Promise<{ version: number; definition: D; createdAt: number }[]>;
    /** Makes an old version current again (saved anew, or published); null when there is no such version. */
    rollback(c: Context<AppEnv>, id: string, version: number): Promise<Response | null>;
    rollbackSummary: string;
  };
}

const RollbackRequest = z.object({ version: z.number().int().min(1) });

export function registerDefinitionRoutes<D, S extends Versioned, L = S>(app: App, r: DefinitionResource<D, S, L>): void {
  const item = `${r.path}/{id}`;
  const notFound = (id: string) => new ApiError("not_found", `No ${r.noun.toLowerCase()} ${id}`);
  const etag = (s: Versioned) => ({ etag: `"${s.version}"` });

  route(app, { method: "get", path: r.path, tag: r.tag, scope: "admin", summary: r.summaries.list, responses: { 200: r.summaries.list } }, async (c) =>
    // Without a listView, L is S (the default), and a row is shown as a definition is.
    c.json({ [r.listKey]: (await r.list(c.env.DB)).map(r.listView ?? (r.view as unknown as (row: L) => Record<string, unknown>)) }),
  );

  route(
    app,
    {
      method: "put",
      path: item,
      tag: r.tag,
      scope: "admin",
      summary: r.summaries.put,
      params: z.object({ id: r.id }),
      query: r.saveQuery,
      body: r.definition,
      responses: { 200: "Saved", 201: "Created", 412: "Someone saved another version meanwhile", ...r.putResponses },
    },
    async (c, { params: { id }, body, query }) => {
      const expected = ifMatchVersion(c.req.header("if-match"));
      const saved = await saveVersioned(r.noun, id, () => r.save(c, id, body as D, expected, query ?? {}));
      return c.json({ ...r.view(saved.stored), ...saved.extra }, saved.created ? 201 : 200, etag(saved.stored));
    },
  );

  route(app, { method: "get", path: item, tag: r.tag, scope: "admin", summary: r.summaries.get, params: IdParam, responses: { 200: r.summaries.get, 404: `No such ${r.noun.toLowerCase()}` } }, async (c, { params: { id } }) => {
    const stored = await r.get(c.env.DB, id);
    if (!stored) throw notFound(id);
    return c.json(r.view(stored), 200, etag(stored));
  });

  route(app, { method: "delete", path: item, tag: r.tag, scope: "admin", summary: r.summaries.delete, params: IdParam, responses: { 204: "Deleted", 404: `No such ${r.noun.toLowerCase()}`, ...r.deleteResponses } }, async (c, { params: { id } }) => {
    if (!(await r.delete(c, id))) throw notFound(id);
    return c.body(null, 204);
  });

  const history = r.history;
  if (!history) return;
  route(app, { method: "get", path: `${item}/versions`, tag: r.tag, scope: "admin", summary: `Every saved version of a ${r.noun.toLowerCase()}, newest first`, params: IdParam, responses: { 200: "Versions", 404: `No such ${r.noun.toLowerCase()}` } }, async (c, { params: { id } }) => {
    const versions = await history.versions(c.env.DB, id);
    if (versions.length === 0) throw notFound(id);
    return c.json({ id, versions: versions.map((v) => ({ ...v, createdAt: isoOrNull(v.createdAt) })) });
  });

  route(app, { method: "post", path: `${item}/rollback`, tag: r.tag, scope: "admin", summary: history.rollbackSummary, params: IdParam, body: RollbackRequest, responses: { 200: "Saved", 404: "No such version" } }, async (c, { params: { id }, body: { version } }) => {
    // A rollback is a save: a concurrent one is a 409, as for PUT.
    const answer = await saveVersioned(r.noun, id, () => history.rollback(c, id, version));
    if (!answer) throw new ApiError("not_found", `${r.noun} ${id} has no version ${version}`);
    return answer;
  });
}
