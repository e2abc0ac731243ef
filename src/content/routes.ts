/**
 * `/v1/blocks` (admin keys): content blocks, versioned. `PUT` saves a new version (a draft:
 * nothing is served until it is published; `?publish=true` does both), `publish` serves a
 * version, `rollback` serves an older one, `DELETE` stops serving it (its history stays).
 * A template that does not parse is refused with the field, line and column.
 *
 * `preview` renders any version for any customer (raw ids: admin keys only); `links` gives the
 * signed URLs of a block for a customer, as an ESP would embed them.
 */
import { z } from "zod";
import type { App } from "../api/app";
import { readConfig } from "../model/config";
import { IdParam, route } from "../api/route";
import { ApiError } from "../kernel/errors";
import { registerDefinitionRoutes } from "../api/definition-routes";
import { resolveCurrentCustomerId } from "../profiles/read";
import { isoOrNull } from "../kernel/time";
import { BlockDefinition, BlockId, FORMATS } from "./definition";
import { partialsOf, syntaxErrors } from "./engine";
import { contentToken, signContent } from "./links";
import { publishManifest } from "./manifest";
import { previewBlock } from "./preview";
import { deleteBlock, getBlock, getBlockVersion, listBlocks, listBlockVersions, publishedBlocks, saveBlock, setPublishedVersion, type StoredBlock } from "./store";

const blockView = (b: StoredBlock) => ({
  id: b.id,
  version: b.version,
  publishedVersion: b.publishedVersion,
  definition: b.definition,
  createdAt: isoOrNull(b.createdAt)!,
  updatedAt: isoOrNull(b.updatedAt)!,
});

const PublishRequest = z.object({ version: z.number().int().min(1).optional() });
const PreviewQuery = z.object({
  customer: z.string().min(1).max(512),
  version: z.coerce.number().int().min(1).optional(),
  format: z.enum(FORMATS).default("html"),
});
const LinksQuery = z.object({
  customer: z.string().min(1).max(512),
  /** Signed links expire after this many seconds (none: they do not expire). */
  ttl: z.coerce.number().int().min(60).max(366 * 86_400).optional(),
});

/**
 * Publishes `version` of block `id`, after checking that every block it renders is published
 * (a missing partial would make every render fall back).
 */
async function publish(env: Env, id: string, version: number): Promise<void> {
  const db = env.DB;
  const definition = await getBlockVersion(db, id, version);
  if (!definition) throw new ApiError("not_found", `Block ${id} has no version ${version}`);
  const published = new Set((await publishedBlocks(db)).map((b) => b.id));
  const missing = partialsOf(definition).filter((p) => p !== id && !published.has(p));
  if (missing.length > 0) {
    throw new ApiError("validation_failed", `Block ${id} renders blocks that are not published: ${missing.join(", ")}`, missing.map((m) => ({ field: "html", message: `renders "${m}", which is not published` })));
  }
  if (!(await setPublishedVersion(db, id, version))) throw new ApiError("not_found", `No block ${id}`);
  await publishManifest(env);
}

const SaveQuery = z.object({ publish: z.string().optional().describe("`true` publishes the saved version too") });
const TAG = "Content";

export function registerBlockRoutes(app: App): void {
  registerDefinitionRoutes(app, {
    path: "/v1/blocks",
    tag: TAG,
    noun: "Block",
    listKey: "blocks",
    id: BlockId,
    definition: BlockDefinition,
    view: blockView,
    listView: (b) => ({ id: b.id, version: b.version, publishedVersion: b.publishedVersion, updatedAt: isoOrNull(b.updatedAt) }),
    summaries: {
      list: "Content blocks: newest and published versions",
      put: 'Save a new version of a block, a draft (publish=true also publishes it; If-Match: "<version>" guards against concurrent edits)',
      get: "A block's newest version, and which version is published",
      delete: "Stop serving a block (its history stays)",
    },
    saveQuery: SaveQuery,
    putResponses: { 400: "Invalid definition, or a template that does not parse (errors carry field, line and column)" },
    deleteResponses: { 409: "Published blocks render it" },
    list: listBlocks,
    get: async (d1, id) => {
      const block = await getBlock(d1, id);
      return block && !block.deletedAt ? block : null;
    },
    async save(c, id, definition, expectedVersion, query) {
      const errors = syntaxErrors(definition);
      if (errors.length > 0) throw new ApiError("validation_failed", `The block's templates do not parse: ${errors.map((e) => `${e.field}: ${e.message}`).join("; ")}`, errors);
      const { block, created } = await saveBlock(c.env.DB, id, definition, expectedVersion);
      if (query.publish === "true") {
        await publish(c.env, id, block.version);
        block.publishedVersion = block.version;
      }
      return { stored: block, created };
    },
    async delete(c, id) {
      const dependents = (await publishedBlocks(c.env.DB)).filter((b) => b.id !== id && partialsOf(b.definition).includes(id)).map((b) => b.id);
      if (dependents.length > 0) throw new ApiError("conflict", `Published blocks render ${id}: ${dependents.join(", ")}; change or delete them first`, [], { dependents });
      if (!(await deleteBlock(c.env.DB, id))) return false;
      await publishManifest(c.env);
      return true;
    },
    history: {
      versions: listBlockVersions,
      rollbackSummary: "Serve an older version again",
      async rollback(c, id, version) {
        await publish(c.env, id, version);
        return c.json({ id, publishedVersion: version });
      },
    },
  });

  registerPublishingRoutes(app);
}

/** Publishing a version, previewing any version for any customer, and the links to embed. */
function registerPublishingRoutes(app: App): void {
  route(
    app,
    { method: "post", path: "/v1/blocks/{id}/publish", tag: TAG, scope: "admin", summary: "Serve a version (default: the newest)", params: IdParam, body: PublishRequest, bodyOptional: true, responses: { 200: "Published", 400: "It renders blocks that are not published", 404: "No such version" } },
    async (c, { params: { id }, body: { version } }) => {
      const block = await getBlock(c.env.DB, id);
      if (!block || block.deletedAt) throw new ApiError("not_found", `No block ${id}`);
      await publish(c.env, id, version ?? block.version);
      return c.json({ id, publishedVersion: version ?? block.version });
    },
  );

  route(
    app,
    { method: "get", path: "/v1/blocks/{id}/preview", tag: TAG, scope: "admin", summary: "Render any version for any customer and format; X-Rapport-Fallback says why a fallback was served", params: IdParam, query: PreviewQuery, responses: { 200: { description: "The rendered block", contentType: "text/html" }, 404: "No such block or version" } },
    async (c, { params: { id }, query }) => {
      const preview = await previewBlock(c.env, id, { ...query, origin: new URL(c.req.url).origin });
      if (!preview.found) throw new ApiError("not_found", preview.detail);
      // Marketers see why a preview shows the fallback; ESP-facing answers never say.
      return c.body(preview.body as string, 200, { "content-type": preview.contentType, "cache-control": "no-store", "x-rapport-fallback": preview.fallback ?? "none", "x-rapport-version": String(preview.version) });
    },
  );

  route(
    app,
    { method: "get", path: "/v1/blocks/{id}/links", tag: TAG, scope: "admin", summary: "The URLs to embed for a customer: token and signed forms, per format, and a click link", params: IdParam, query: LinksQuery, responses: { 200: "Links", 404: "No such customer" } },
    async (c, { params: { id }, query }) => {
      const customerId = await resolveCurrentCustomerId(c.env, query.customer);
      if (!customerId) throw new ApiError("not_found", `No customer matches ${JSON.stringify(query.customer)}`);
      const secrets = readConfig(c.env).contentSecrets;
      const origin = new URL(c.req.url).origin;
      const token = await contentToken(secrets, customerId);
      const exp = query.ttl ? Math.floor(Date.now() / 1000) + query.ttl : undefined;
      const sig = await signContent(secrets[0]!, id, customerId, exp);
      const signed = new URLSearchParams({ c: customerId, ...(exp ? { exp: String(exp) } : {}), sig });
      const url = (format: string, q: URLSearchParams) => `${origin}/v1/content/${id}.${format}?${q}`;
      const t = new URLSearchParams({ t: token });
      return c.json({
        customerId,
        contentToken: token,
        token: Object.fromEntries(FORMATS.map((f) => [f, url(f, t)])),
        signed: Object.fromEntries(FORMATS.map((f) => [f, url(f, signed)])),
        click: `${origin}/v1/r/${id}/0?${t}`,
        expiresAt: exp ? new Date(exp * 1000).toISOString() : null,
      });
    },
  );

}
