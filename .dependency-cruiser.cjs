/**
 * The boundaries of `src/` (docs/architecture.md, "Layers"): each layer may import only the layers
 * listed before it, and no file may take part in an import circle, type-only imports included.
 *
 * `npm test` runs this through `npm run lint:boundaries`. There is no baseline of tolerated
 * violations: an upward import fails the build with the name of the rule it breaks, unless it is
 * one of the EXCEPTIONS below, each with its reason.
 */

/** Route modules and HTTP plumbing belong to the api layer wherever they sit today. */
const API_FILES = "(^src/(api|admin|tag|console)/|/[a-z-]*routes\\.ts$|/preview-page\\.ts$)";

/** Lowest first. A layer may import itself and every layer above it in this list. */
const LAYERS = [
  ["kernel", "^src/kernel/"],
  ["model", "^src/(model|types)/"],
  ["db", "^src/db/"],
  // Capabilities: a pure core and one store each, in the order they may import each other.
  ["keys", "^src/keys/"],
  // Data quality: tracking plans, their violations, the quarantine of refused messages.
  ["tracking", "^src/tracking/"],
  ["identity", "^src/identity/"],
  ["profiles", "^src/profiles/"],
  ["models", "^src/models/"],
  ["segments", "^src/segments/"],
  ["triggers", "^src/triggers/"],
  ["catalog", "^src/catalog/"],
  ["enrichment", "^src/enrichment/"],
  // Experiments on content: assignment, exposures, sequential statistics.
  ["experiments", "^src/experiments/"],
  // Engagement reports: sums of the daily rows the pipeline writes with profiles.
  ["reports", "^src/reports/"],
  ["content", "^src/content/"],
  // Surveys in email: definitions, results, answer pages.
  ["surveys", "^src/surveys/"],
  ["ingest and queues", "^src/(ingest|queues|sources)/"],
  ["pipeline", "^src/(pipeline|archive)/"],
  ["sessions and delivery", "^src/(sessions|delivery)/"],
  ["jobs", "^src/(jobs|maintenance|privacy|alerts)/"],
  ["api", API_FILES],
];

/** The api and the pipeline call a customer's session object through its contract (stub and call types). */
const SESSION_CONTRACT = "^src/sessions/contract\\.ts$";
const MAY_CALL_SESSIONS = new Set(["pipeline"]);

const union = (patterns) => (patterns.length ? `(${patterns.join("|")})` : "^$");

const layerRules = LAYERS.slice(0, -1).map(([name, path], index) => ({
  name: `layer-${name.replaceAll(" ", "-")}`,
  comment: `${name} may import only the layers below it (${LAYERS.slice(0, index)
    .map(([below]) => below)
    .join(", ") || "nothing in src/"})`,
  severity: "error",
  from: { path, pathNot: API_FILES },
  to: { path: union(LAYERS.slice(index + 1).map(([, above]) => above)), pathNot: MAY_CALL_SESSIONS.has(name) ? `${path}|${SESSION_CONTRACT}` : path },
}));

/** An entry point of the worker: only the files matching `importers` may import `target`. */
const onlyImportedBy = (name, target, importers, comment) => ({
  name: `only-entries-import-the-${name}`,
  comment,
  severity: "error",
  from: { path: "^src/", pathNot: importers },
  to: { path: target },
});

/**
 * The upward imports the layering accepts, each with its reason (at most three). Every rule below
 * skips exactly these pairs and still applies to the rest of each file's imports.
 */
const EXCEPTIONS = [
  {
    from: "^src/profiles/(read|events)\\.ts$",
    to: SESSION_CONTRACT,
    reason: "A profile read serves the live session and writes the customer's first snapshot through its session object, which orders snapshot writes against the pipeline's; a customer's stored events are in that object (docs/scaling.md), and whatever reads them reads them there.",
  },
  {
    from: "^src/(admin/identity-routes\\.ts|console/routes\\.tsx)$",
    to: "^src/pipeline/(unmerge|duplicate-scan)\\.ts$",
    reason: "An admin's unmerge and duplicate decision (the API, and the console's Unmerge button) run the pipeline's merge path synchronously, so the answer shows the customers as they now are.",
  },
];

/** A rule, minus the exception pairs: the rule as it was for every other file, plus one copy per excepted file. */
function withExceptions(rule) {
  if (!rule.from.path) return [rule];
  const excepted = EXCEPTIONS.map((e) => e.from).join("|");
  const others = { ...rule, from: { ...rule.from, pathNot: [rule.from.pathNot, excepted].filter(Boolean).join("|") } };
  const copies = EXCEPTIONS.map((e) => ({
    ...rule,
    from: { ...rule.from, path: `(?=${e.from})(?:${rule.from.path})` },
    to: { ...rule.to, pathNot: [rule.to.pathNot, e.to].filter(Boolean).join("|") },
  }));
  return [others, ...copies];
}

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "An import circle (type-only ones count) makes the layers meaningless; break it with a lower module both can import.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    ...[
      ...layerRules,
      onlyImportedBy("api", API_FILES, `^src/index\\.ts$|${API_FILES}`, "Routes are mounted by src/index.ts; nothing else imports them."),
      onlyImportedBy("pipeline", "^src/pipeline/", "^src/(index\\.ts|pipeline/|jobs/)", "The pipeline is an entry point (the events consumer, reevaluate()); capabilities below it never call it back."),
      onlyImportedBy("jobs", "^src/jobs/", "^src/(index\\.ts|jobs/)", "Jobs run from the jobs queue and the crons that src/index.ts dispatches."),
    {
      name: "api-not-to-db",
      comment: "Routes call a capability's function; queries live in that capability's store.",
      severity: "error",
      from: { path: API_FILES },
      to: { path: "^src/db/(schema|client)\\.ts$" },
    },
    {
      name: "src-not-to-tools",
      comment: "The traffic simulator and training tools are not part of the worker bundle.",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^tools/" },
    },
    ].flatMap(withExceptions),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)worker-configuration\\.d\\.ts$" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
