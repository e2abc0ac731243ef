
import type { App } from "../api/app";
import { ApiError } from "../kernel/errors";
import { registerDefinitionRoutes } from "../api/definition-routes";
import { isoOrNull } from "../kernel/time";
import { CustomTraitDefinition, CustomTraitId } from "./custom-traits";
import { deleteCustomTrait, getCustomTrait, listCustomTraits, saveCustomTrait, type StoredCustomTrait } from "./custom-traits-store";
import { traitsReferencedBy } from "./definition";
import { startPass } from "./pass";
import { listSegments } from "./store";

const view = (t: StoredCustomTrait) => ({ id: t.id, version: t.version, definition: t.definition, createdAt: isoOrNull(t.createdAt), updatedAt: isoOrNull(t.updatedAt) });

const TAG = "Segments";

export function registerCustomTraitRoutes(app: App): void {
  registerDefinitionRoutes(app, {
    path: "/v1/computed-traits",
    tag: TAG,
    noun: "Computed trait",
    listKey: "computedTraits",
    id: CustomTraitId,
    definition: CustomTraitDefinition,
    view,
    summaries: {
      list: "Custom computed traits",
      put: 'Save a custom computed trait (If-Match: "<version>"); starts a pass that derives it for every profile',
      get: "One custom computed trait",
      delete: "Delete a custom computed trait",
    },
    deleteResponses: { 409: "Segment rules name it" },
    list: listCustomTraits,
    get: getCustomTrait,
    async save(c, id, definition, expectedVersion) {
      const { trait, created, changed } = await saveCustomTrait(c.env.DB, id, definition, expectedVersion);
      // Every stored profile gets the trait from its history (and segments naming it follow).
      const runId = changed ? await startPass(c.env, `trait:${id}@${trait.version}`) : null;
      return { stored: trait, created, extra: { runId } };
    },
    async delete(c, id) {
      const dependents = (await listSegments(c.env.DB)).filter((s) => traitsReferencedBy(s.definition.rule).includes(id)).map((s) => s.id);
      if (dependents.length > 0) throw new ApiError("conflict", `Computed trait ${id} is named by the rules of segments ${dependents.join(", ")}; change those first`, [], { dependents });
      if (!(await deleteCustomTrait(c.env.DB, id))) return false;
      await startPass(c.env, `trait-deleted:${id}`);
      return true;
    },
  });
}
