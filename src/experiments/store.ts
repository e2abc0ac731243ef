/** Experiment definitions in D1 (the current version of each). The edge reads them from the block manifest. */
import { definitionStore, type StoredDefinition } from "../db/current-definitions";
import { ExperimentDefinition } from "./definition";

export type StoredExperiment = StoredDefinition<ExperimentDefinition>;

const store = definitionStore("experiments", (v) => ExperimentDefinition.parse(v));

export const getExperiment = store.get;
export const listExperiments = store.list;
export const saveExperiment = store.save;
export const deleteExperiment = store.delete;
