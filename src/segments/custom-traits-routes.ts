/**
 * `/v1/computed-traits` (admin keys): custom computed traits. `PUT` saves a definition
 * (`If-Match: "<version>"` guards concurrent edits) and starts an evaluation pass, which derives
 * the trait for every stored profile from its history; `DELETE` refuses while a segment rule
 * names the trait.
 */
import type { App } from "../api/app";
import { database } from "../db/client";
import { requireKey } from "../api/auth";
import { ApiError } from "../kernel/errors";
import { ifMatchVersion, jsonBody, parseInput } from "../api/validation";
import { saveVersioned } from "../api/versioned";
import { isoOrNull } from "../kernel/time";
import { CustomTraitDefinition, CustomTraitId } from "./custom-traits";
import { deleteCustomTrait, getCustomTrait, listCustomTraits, saveCustomTrait, type StoredCustomTrait } from "./custom-traits-store";
import { traitsReferencedBy } from "./definition";
import { startPass } from "./pass";
import { listSegments } from "./store";

const view = (t: StoredCustomTrait) => ({ id: t.id, version: t.version, definition: t.definition, createdAt: isoOrNull(t.createdAt), updatedAt: isoOrNull(t.updatedAt) });

export function registerCustomTraitRoutes(app: App): void {
  app.use("/v1/computed-traits", requireKey("admin"));
  app.use("/v1/computed-traits/*", requireKey("admin"));

  app.get("/v1/computed-traits", async (c) => c.json({ computedTraits: (await listCustomTraits(c.env.DB)).map(view) }));

  app.put("/v1/computed-traits/:id", async (c) => {
    const id = parseInput(CustomTraitId, c.req.param("id"), "computed trait id");
    const definition = parseInput(CustomTraitDefinition, await jsonBody(c), "computed trait definition");
    const { trait, created, changed } = await saveVersioned("Computed trait", id, () => saveCustomTrait(c.env.DB, id, definition, ifMatchVersion(c.req.header("if-match"))));
    // Every stored profile gets the trait from its history (and segments naming it follow).
    const runId = changed ? await startPass(c.env, `trait:${id}@${trait.version}`) : null;
    return c.json({ ...view(trait), runId }, created ? 201 : 200, { etag: `"${trait.version}"` });
  });

  app.get("/v1/computed-traits/:id", async (c) => {
    const trait = await getCustomTrait(c.env.DB, c.req.param("id"));
    if (!trait) throw new ApiError("not_found", `No computed trait ${c.req.param("id")}`);
    return c.json(view(trait), 200, { etag: `"${trait.version}"` });
  });

  app.delete("/v1/computed-traits/:id", async (c) => {
    const id = c.req.param("id");
    const dependents = (await listSegments(database(c.env.DB))).filter((s) => traitsReferencedBy(s.definition.rule).includes(id)).map((s) => s.id);
    if (dependents.length > 0) throw new ApiError("conflict", `Computed trait ${id} is named by the rules of segments ${dependents.join(", ")}; change those first`, [], { dependents });
    if (!(await deleteCustomTrait(c.env.DB, id))) throw new ApiError("not_found", `No computed trait ${id}`);
    await startPass(c.env, `trait-deleted:${id}`);
    return c.body(null, 204);
  });
}
