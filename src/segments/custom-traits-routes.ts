/**
 * `/v1/computed-traits` (admin keys): custom computed traits. `PUT` saves a definition
 * (`If-Match: "<version>"` guards concurrent edits) and starts an evaluation pass, which derives
 * the trait for every stored profile from its history; `DELETE` refuses while a segment rule
 * names the trait.
 */
import { z } from "zod";
import type { App } from "../api/app";
import { IdParam, route } from "../api/route";
import { ApiError } from "../kernel/errors";
import { ifMatchVersion } from "../api/validation";
import { saveVersioned } from "../api/versioned";
import { isoOrNull } from "../kernel/time";
import { CustomTraitDefinition, CustomTraitId } from "./custom-traits";
import { deleteCustomTrait, getCustomTrait, listCustomTraits, saveCustomTrait, type StoredCustomTrait } from "./custom-traits-store";
import { traitsReferencedBy } from "./definition";
import { startPass } from "./pass";
import { listSegments } from "./store";

const view = (t: StoredCustomTrait) => ({ id: t.id, version: t.version, definition: t.definition, createdAt: isoOrNull(t.createdAt), updatedAt: isoOrNull(t.updatedAt) });

const TAG = "Segments";

export function registerCustomTraitRoutes(app: App): void {
  route(app, { method: "get", path: "/v1/computed-traits", tag: TAG, scope: "admin", summary: "Custom computed traits", responses: { 200: "Traits" } }, async (c) =>
    c.json({ computedTraits: (await listCustomTraits(c.env.DB)).map(view) }),
  );

  route(
    app,
    {
      method: "put",
      path: "/v1/computed-traits/{id}",
      tag: TAG,
      scope: "admin",
      summary: 'Save a custom computed trait (If-Match: "<version>"); starts a pass that derives it for every profile',
      params: z.object({ id: CustomTraitId }),
      body: CustomTraitDefinition,
      responses: { 200: "Saved", 201: "Created", 412: "Someone saved another version meanwhile" },
    },
    async (c, { params: { id }, body: definition }) => {
      const { trait, created, changed } = await saveVersioned("Computed trait", id, () => saveCustomTrait(c.env.DB, id, definition, ifMatchVersion(c.req.header("if-match"))));
      // Every stored profile gets the trait from its history (and segments naming it follow).
      const runId = changed ? await startPass(c.env, `trait:${id}@${trait.version}`) : null;
      return c.json({ ...view(trait), runId }, created ? 201 : 200, { etag: `"${trait.version}"` });
    },
  );

  route(app, { method: "get", path: "/v1/computed-traits/{id}", tag: TAG, scope: "admin", summary: "One custom computed trait", params: IdParam, responses: { 200: "The trait", 404: "No such trait" } }, async (c, { params: { id } }) => {
    const trait = await getCustomTrait(c.env.DB, id);
    if (!trait) throw new ApiError("not_found", `No computed trait ${id}`);
    return c.json(view(trait), 200, { etag: `"${trait.version}"` });
  });

  route(app, { method: "delete", path: "/v1/computed-traits/{id}", tag: TAG, scope: "admin", summary: "Delete a custom computed trait", params: IdParam, responses: { 204: "Deleted", 404: "No such trait", 409: "Segment rules name it" } }, async (c, { params: { id } }) => {
    const dependents = (await listSegments(c.env.DB)).filter((s) => traitsReferencedBy(s.definition.rule).includes(id)).map((s) => s.id);
    if (dependents.length > 0) throw new ApiError("conflict", `Computed trait ${id} is named by the rules of segments ${dependents.join(", ")}; change those first`, [], { dependents });
    if (!(await deleteCustomTrait(c.env.DB, id))) throw new ApiError("not_found", `No computed trait ${id}`);
    await startPass(c.env, `trait-deleted:${id}`);
    return c.body(null, 204);
  });
}
