/**
 * The D1 schema of Rapport, in drizzle. `migrations/` is generated from this file with
 * `npm run db:generate`; hand-written SQL (triggers) lives in custom migrations beside it.
 *
 * Cost shapes this schema: D1 bills every written row, and every index on a written column
 * adds one. So events are stored packed (one row per customer per consumer batch), and the
 * dedupe marks are the message ids inside those packed rows, not a row per event.
 */
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * One row per customer (master profile). `version` guards concurrent writers. The customer's
 * latest events ride in the same row (`recent_events`) until they reach RECENT_EVENTS_MAX_BYTES
 * and move to `event_chunks`: an update that adds events then writes one row, not two. A rowid
 * table (migration 0017 says why), so inserting a customer writes two rows (with its `id` index
 * entry); its columns are in this order, `recent_events` last, the largest.
 */
export const customers = sqliteTable("customers", {
  id: text("id").primaryKey(),
  /** JSON object of trait name → value. */
  traits: text("traits").notNull().default("{}"),
  /** JSON object of trait name → [event time ms, messageId]: last writer wins by event time. */
  traitTimes: text("trait_times").notNull().default("{}"),
  /** JSON object of trait name → why its value (kept as sent) could not be normalized. */
  traitIssues: text("trait_issues").notNull().default("{}"),
  /** JSON consent preferences (`null` until an event carries `context.consent`). */
  consent: text("consent").notNull().default("null"),
  /** JSON counters: events by type and track events by name. */
  counters: text("counters").notNull().default("{}"),
  /** JSON built-in computed traits (segments/computed.ts); null in rows written before them. */
  computed: text("computed"),
  /** JSON event counts segment rules ask about (segments/aggregates.ts). */
  aggregates: text("aggregates").notNull().default("{}"),
  /** JSON segment id → [1 in / 0 out, since when (ms)] (segments/membership.ts). */
  segments: text("segments").notNull().default("{}"),
  /** JSON predictive scores as of the last write: model name → [score, model version], and `at` (models/scores.ts). */
  scores: text("scores"),
  /** JSON enricher id → [the key it looked up (an email domain), when (ms)] (enrichment/). */
  enrichment: text("enrichment").notNull().default("{}"),
  /** JSON experiment id → the variant first shown and the outcomes since (profiles/experiments.ts); null: none. */
  experiments: text("experiments"),
  /** JSON engagement by local hour and the time zone (profiles/send-time.ts); null: none yet. */
  sendTime: text("send_time"),
  /** JSON messages received, human touches, holdout firings, credited conversions (profiles/engagement.ts); null: none. */
  engagement: text("engagement"),
  /** JSON survey id → [latest answer, when (ms), messageId] (profiles/survey-answers.ts); null: none. */
  surveys: text("surveys"),
  eventCount: integer("event_count").notNull().default(0),
  /** JSON array of the customer's identity keys (`user_id:42`, …): the reverse of `identities`. */
  identityKeys: text("identity_keys").notNull().default("[]"),
  /** How many event_chunks rows the customer has (0: no need to look there). */
  chunkCount: integer("chunk_count").notNull().default(0),
  firstSeenAt: integer("first_seen_at"),
  lastSeenAt: integer("last_seen_at"),
  version: integer("version").notNull().default(1),
  /**
   * When the read API first served this customer. Only served customers get a KV snapshot, kept
   * fresh by the pipeline from then on: ingest pays no KV write for profiles nobody reads.
   */
  servedAt: integer("served_at"),
  /**
   * When the customer's CustomerSession object started. Until then the pipeline does not call it
   * (no one reads the session, no trigger concerns the customer): the session is a function of
   * the stored events, so the object derives it from them when it starts.
   */
  sessionAt: integer("session_at"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  /**
   * The messageIds of `recent_events`, in order (the dedupe marks), and its length in UTF-16 code
   * units as JavaScript counts it. With them the pipeline neither reads the events nor sends them
   * back: it appends new ones in SQL (profiles/row-events.ts). NULL in rows written before them,
   * and after the retention job trims the events: the pipeline then reads the events once.
   */
  recentIds: text("recent_ids"),
  recentLength: integer("recent_length"),
  /** JSON array of the latest stored events. */
  recentEvents: text("recent_events").notNull().default("[]"),
  /**
   * Where the customer's events are. NULL: in this row's `recent_events` and in `event_chunks`, as
   * before events moved into the customer's Durable Object (docs/scaling.md); a number: in the
   * object, and this is the sequence of the last chunk applied to the profile (the watermark of
   * sessions/event-store.ts). The pipeline moves a row's events into the object the first time it
   * touches the customer, and empties the row.
   */
  eventSeq: integer("event_seq"),
  /**
   * JSON object: the customers merged into this one → when their events moved into this
   * customer's object (0: not yet). NULL: none. Written with the combined profile, so that a merge
   * interrupted between databases is finished once, not applied twice (db/sharded-writes.ts), and
   * the survivor's next batch knows which objects' events it still has to take in.
   */
  absorbed: text("absorbed"),
});

/**
 * Each identifier (`user_id:…`, `anonymous_id:…`, `email:…`) belongs to exactly one customer.
 * WITHOUT ROWID (set in the migration) and with no secondary index, so a new identity costs one
 * written row; a customer's own list of identities is `customers.identity_keys`.
 */
export const identities = sqliteTable("identities", {
  key: text("key").primaryKey(),
  kind: text("kind").notNull(),
  value: text("value").notNull(),
  customerId: text("customer_id").notNull(),
  createdAt: integer("created_at").notNull(),
  /**
   * The key's suppression hash (privacy/suppression-hash.ts), written with new identities so that
   * a D1 trigger can refuse one an erasure suppressed meanwhile (suppressions hold only hashes).
   */
  keyHash: text("key_hash"),
});

/**
 * A customer's older events, packed (moved out of `customers.recent_events` when it fills up).
 * `message_ids` are dedupe marks; they commit in the same D1 transaction as the profile change.
 */
export const eventChunks = sqliteTable(
  "event_chunks",
  {
    id: integer("id").primaryKey(),
    customerId: text("customer_id").notNull(),
    receivedAt: integer("received_at").notNull(),
    minTs: integer("min_ts").notNull(),
    maxTs: integer("max_ts").notNull(),
    /** JSON array of the messageIds in `events`. */
    messageIds: text("message_ids").notNull(),
    /** JSON array of stored events. */
    events: text("events").notNull(),
  },
  (t) => [index("event_chunks_customer_idx").on(t.customerId)],
);

/** Messages refused at ingest, kept with their reason and raw payload. */
export const quarantine = sqliteTable(
  "quarantine",
  {
    seq: integer("seq").primaryKey(),
    id: text("id").notNull(),
    receivedAt: integer("received_at").notNull(),
    sourceId: text("source_id").notNull(),
    endpoint: text("endpoint").notNull(),
    reason: text("reason").notNull(),
    /** JSON array of { field, message }. */
    errors: text("errors").notNull(),
    raw: text("raw").notNull(),
    truncated: integer("truncated", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [uniqueIndex("quarantine_id_idx").on(t.id)],
);

/** Queue messages that exhausted their retries, as received from the dead-letter queue. */
export const deadLetters = sqliteTable("dead_letters", {
  id: text("id").primaryKey(),
  queue: text("queue").notNull(),
  body: text("body").notNull(),
  attempts: integer("attempts").notNull(),
  lastError: text("last_error"),
  receivedAt: integer("received_at").notNull(),
  replayedAt: integer("replayed_at"),
});

/** The last error of a pack that failed processing, so the dead-letter entry can say why. */
export const packFailures = sqliteTable("pack_failures", {
  packId: text("pack_id").primaryKey(),
  error: text("error").notNull(),
  attempts: integer("attempts").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** API keys. Only the SHA-256 of a key is stored; the key itself is shown once at creation. */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: ["write", "read", "admin"] }).notNull(),
    hash: text("hash").notNull(),
    prefix: text("prefix").notNull(),
    name: text("name").notNull(),
    createdAt: integer("created_at").notNull(),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("api_keys_hash_idx").on(t.hash)],
);

/**
 * Identifiers of erased customers, as keyed hashes (HMAC-SHA256 with SUPPRESSION_SECRETS; rows
 * from before hashing hold the identifier until the daily job hashes them). Events that carry one
 * are dropped, so that replayed or late events do not recreate a person who asked to be
 * forgotten (until an admin lifts it), without keeping the identifiers themselves.
 */
export const suppressions = sqliteTable("suppressions", {
  key: text("key").primaryKey(),
  customerId: text("customer_id").notNull(),
  reason: text("reason").notNull(),
  createdAt: integer("created_at").notNull(),
});

/**
 * Every merge: the customer merged away, the survivor, the cause, and the merged-away profile as
 * it was (for audit and unmerge). The merged-away master id keeps resolving to the survivor
 * through this table. Its primary key also guards against two writers merging the same customer.
 */
export const merges = sqliteTable(
  "merges",
  {
    mergedId: text("merged_id").primaryKey(),
    survivorId: text("survivor_id").notNull(),
    /** JSON: { messageId, keys } of the event that linked them. */
    cause: text("cause").notNull(),
    /** JSON: the merged-away customer row as it was. */
    mergedProfile: text("merged_profile").notNull(),
    createdAt: integer("created_at").notNull(),
    /**
     * Written until migration 0021, which copied it into the survivor's `customers.absorbed`
     * (where the pipeline now reads and records the move of the merged-away object's events).
     */
    eventsMovedAt: integer("events_moved_at"),
    /**
     * When the merge was finished: the survivor's row took the merged customer in and its
     * identifiers point at the survivor. NULL: a merge across shards may have been interrupted
     * between its phases (db/sharded-writes.ts); the daily job finishes those.
     */
    finishedAt: integer("finished_at"),
  },
  (t) => [index("merges_survivor_idx").on(t.survivorId)],
);

/** Merges the identity rules refused (e.g. two different userIds), with the cause. */
export const identityRefusals = sqliteTable("identity_refusals", {
  /** `<rule>:<messageId>:<customer ids>`: a redelivered event records its refusal once. */
  id: text("id").primaryKey(),
  rule: text("rule").notNull(),
  /** JSON array of the customer ids involved. */
  customerIds: text("customer_ids").notNull(),
  /** JSON: { messageId, keys }. */
  cause: text("cause").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** Pairs of customers an admin unmerged: the pipeline will not merge them again on its own. */
export const mergeBlocks = sqliteTable("merge_blocks", {
  /** `<smaller id>|<larger id>`. */
  pair: text("pair").primaryKey(),
  createdAt: integer("created_at").notNull(),
});

/** Likely duplicate profiles found by the duplicate scan, and what was decided. */
export const duplicateCandidates = sqliteTable("duplicate_candidates", {
  /** `<smaller id>|<larger id>`. */
  pair: text("pair").primaryKey(),
  score: real("score").notNull(),
  /** JSON array of reasons (`names_similar(0.96)`, `same_phone_number`…). */
  reasons: text("reasons").notNull(),
  status: text("status", { enum: ["pending", "merged", "rejected"] }).notNull(),
  createdAt: integer("created_at").notNull(),
  decidedAt: integer("decided_at"),
});

/**
 * Behavioural triggers: the current version of each (what the pipeline and the Durable Objects
 * read) and every version ever saved (`trigger_versions`), so a change can be audited and undone.
 */
export const triggers = sqliteTable("triggers", {
  id: text("id").primaryKey(),
  version: integer("version").notNull(),
  /** JSON TriggerDefinition of the current version. */
  definition: text("definition").notNull(),
  enabled: integer("enabled", { mode: "boolean" }).notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  /** Deleted triggers keep their history; their pending timers are dropped when they come due. */
  deletedAt: integer("deleted_at"),
});

export const triggerVersions = sqliteTable(
  "trigger_versions",
  {
    triggerId: text("trigger_id").notNull(),
    version: integer("version").notNull(),
    definition: text("definition").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.triggerId, t.version] })],
);

/**
 * The delivery log of fired triggers: one row per delivery (its id is the idempotency key sent
 * to the destination), updated at each attempt. A delivered row makes redelivered queue messages
 * and retried alarms no-ops; the stored message lets an admin replay a dead one.
 */
export const deliveries = sqliteTable(
  "deliveries",
  {
    id: text("id").primaryKey(),
    triggerId: text("trigger_id").notNull(),
    triggerVersion: integer("trigger_version").notNull(),
    customerId: text("customer_id").notNull(),
    url: text("url").notNull(),
    status: text("status", { enum: ["queued", "retrying", "delivered", "rejected", "dead"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    /** JSON DeliveryMessage, as queued. */
    message: text("message").notNull(),
    firedAt: integer("fired_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    deliveredAt: integer("delivered_at"),
  },
  // updated_at: the alert on delivery failures reads the window's attempts (alerts/measure.ts).
  (t) => [index("deliveries_trigger_idx").on(t.triggerId, t.firedAt), index("deliveries_customer_idx").on(t.customerId, t.firedAt), index("deliveries_updated_idx").on(t.updatedAt)],
);

/**
 * The product catalog, kept by catalog updates (`POST /v1/catalog/products`): the price and
 * stock that price-drop and back-in-stock triggers compare against, and the product data that
 * content blocks show.
 */
export const products = sqliteTable("products", {
  id: text("id").primaryKey(),
  /** JSON: name, url, image, category, brand… as last sent. */
  data: text("data").notNull(),
  price: real("price"),
  currency: text("currency"),
  inStock: integer("in_stock", { mode: "boolean" }),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * Who viewed which product on which day: the audience of a price drop or a restock. Written by
 * the pipeline only while a trigger starts on a catalog change, and only for customers it can
 * reach. One row per product and day, holding the day's viewers (a JSON array of customer ids,
 * sorted, distinct): a batch writes one row per product and day it saw viewed, however many
 * customers viewed it (D1 bills each row written; a row per product and customer was about 0.3
 * rows per event in the shipped configuration). WITHOUT ROWID (set in the migration).
 */
export const productViewers = sqliteTable(
  "product_viewers",
  {
    productId: text("product_id").notNull(),
    /** Days since 1970-01-01, UTC. */
    day: integer("day").notNull(),
    customers: text("customers").notNull(),
  },
  (t) => [primaryKey({ columns: [t.productId, t.day] })],
);

/**
 * Content blocks (Liquid templates for ESPs). `version` is the newest saved; `published_version`
 * the one the edge serves (null: not served). Every saved version stays in `block_versions`.
 */
export const blocks = sqliteTable("blocks", {
  id: text("id").primaryKey(),
  version: integer("version").notNull(),
  publishedVersion: integer("published_version"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  /** Deleted blocks keep their history and are no longer served. */
  deletedAt: integer("deleted_at"),
});

export const blockVersions = sqliteTable(
  "block_versions",
  {
    blockId: text("block_id").notNull(),
    version: integer("version").notNull(),
    /** JSON BlockDefinition. */
    definition: text("definition").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.blockId, t.version] })],
);

/**
 * Product popularity per UTC day (views, cart adds, purchases), counted by the pipeline, one
 * written row per product and day per batch (WITHOUT ROWID, set in the migration): what content
 * blocks' "popular" recommendations rank by.
 */
export const productStats = sqliteTable(
  "product_stats",
  {
    productId: text("product_id").notNull(),
    /** Days since 1970-01-01 (UTC). */
    day: integer("day").notNull(),
    views: integer("views").notNull().default(0),
    adds: integer("adds").notNull().default(0),
    purchases: integer("purchases").notNull().default(0),
  },
  // Day first: the popularity query and retention read ranges of days, with no extra index to write.
  (t) => [primaryKey({ columns: [t.day, t.productId] })],
);

/**
 * Segments: the current version of each rule (what the pipeline evaluates) and every version
 * saved. `size` is the member count, kept by the same D1 transactions that change memberships
 * (and recounted by the daily pass).
 */
export const segments = sqliteTable("segments", {
  id: text("id").primaryKey(),
  version: integer("version").notNull(),
  /** JSON SegmentDefinition of the current version. */
  definition: text("definition").notNull(),
  enabled: integer("enabled", { mode: "boolean" }).notNull(),
  size: integer("size").notNull().default(0),
  /**
   * Since when its memberships count: set when the segment is created, re-created or enabled
   * again. A profile's older membership entry is from before and counts as none.
   */
  membersSince: integer("members_since").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  deletedAt: integer("deleted_at"),
});

export const segmentVersions = sqliteTable(
  "segment_versions",
  {
    segmentId: text("segment_id").notNull(),
    version: integer("version").notNull(),
    definition: text("definition").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.segmentId, t.version] })],
);

/** Who is in each segment (WITHOUT ROWID: one written row per entry; the member list pages by key). */
export const segmentMembers = sqliteTable(
  "segment_members",
  {
    segmentId: text("segment_id").notNull(),
    customerId: text("customer_id").notNull(),
    enteredAt: integer("entered_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.segmentId, t.customerId] })],
);

/** Entries, exits and size per segment per UTC day (WITHOUT ROWID): the segment's history. */
export const segmentStats = sqliteTable(
  "segment_stats",
  {
    segmentId: text("segment_id").notNull(),
    /** Days since 1970-01-01 (UTC). */
    day: integer("day").notNull(),
    entered: integer("entered").notNull().default(0),
    exited: integer("exited").notNull().default(0),
    /** The size after the day's last change. */
    size: integer("size").notNull(),
  },
  (t) => [primaryKey({ columns: [t.segmentId, t.day] })],
);

/**
 * The engagement reports (profiles/engagement.ts, reports/): what each trigger, block and
 * experiment variant saw per UTC day, added to by the commits that apply email events (in the
 * customers' shard, with their profiles: every database has its own rows and a report sums them).
 * WITHOUT ROWID (migration 0026): one written row per upsert.
 */
export const engagementDaily = sqliteTable(
  "engagement_daily",
  {
    /** `trigger`, `block` or `variant` (`experiment:variant`). */
    dimension: text("dimension").notNull(),
    key: text("key").notNull(),
    /** Days since 1970-01-01 (UTC). */
    day: integer("day").notNull(),
    delivered: integer("delivered").notNull().default(0),
    reached: integer("reached").notNull().default(0),
    opens: integer("opens").notNull().default(0),
    uniqueOpens: integer("unique_opens").notNull().default(0),
    machineOpens: integer("machine_opens").notNull().default(0),
    clicks: integer("clicks").notNull().default(0),
    uniqueClicks: integer("unique_clicks").notNull().default(0),
    scannerClicks: integer("scanner_clicks").notNull().default(0),
    conversions: integer("conversions").notNull().default(0),
    /** Minor units (cents), whatever the orders' currency. */
    revenue: integer("revenue").notNull().default(0),
    unsubscribes: integer("unsubscribes").notNull().default(0),
    complaints: integer("complaints").notNull().default(0),
    /** Firings of a trigger with a holdout, by arm, and their conversions, revenue and its sum of squares (per firing). */
    treated: integer("treated").notNull().default(0),
    held: integer("held").notNull().default(0),
    treatedConversions: integer("treated_conversions").notNull().default(0),
    heldConversions: integer("held_conversions").notNull().default(0),
    treatedRevenue: integer("treated_revenue").notNull().default(0),
    heldRevenue: integer("held_revenue").notNull().default(0),
    treatedRevenueSq: real("treated_revenue_sq").notNull().default(0),
    heldRevenueSq: real("held_revenue_sq").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.dimension, t.key, t.day] })],
);

/**
 * The shop's engagement by local hour (profiles/population-curve.ts): what each commit's customers
 * added, in their shard with their profiles; summed over the shards into the population curve.
 */
export const sendTimeHours = sqliteTable("send_time_hours", {
  hour: integer("hour").primaryKey(),
  weight: real("weight").notNull().default(0),
});

/** Evaluation passes over every profile (daily, or after a rule changed), with their progress. */
export const segmentRuns = sqliteTable("segment_runs", {
  id: text("id").primaryKey(),
  reason: text("reason").notNull(),
  startedAt: integer("started_at").notNull(),
  finishedAt: integer("finished_at"),
  /** The last customer id evaluated: a retried page is not counted twice. */
  cursor: text("cursor").notNull().default(""),
  /** A later pass (which evaluates everything this one would) made this one stop. */
  supersededBy: text("superseded_by"),
  profiles: integer("profiles").notNull().default(0),
  changed: integer("changed").notNull().default(0),
});

/** Every published version of each predictive model (the current one is also in KV, where the worker reads it). */
export const models = sqliteTable(
  "models",
  {
    name: text("name").notNull(),
    version: integer("version").notNull(),
    /** JSON Model. */
    model: text("model").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.name, t.version] })],
);

/**
 * The distribution of each model's scores per UTC day, as the pipeline writes profiles: ten
 * buckets of 0.1, for drift monitoring. One row per model version and day (WITHOUT ROWID), upserted once per batch.
 */
export const scoreStats = sqliteTable(
  "score_stats",
  {
    name: text("name").notNull(),
    version: integer("version").notNull(),
    day: integer("day").notNull(),
    n: integer("n").notNull(),
    sum: real("sum").notNull(),
    /** JSON array of ten counts. */
    buckets: text("buckets").notNull(),
  },
  (t) => [primaryKey({ columns: [t.name, t.version, t.day] })],
);

/**
 * The columns of a table of definitions kept as their current version only
 * (db/current-definitions.ts): `definition` is the JSON the table's zod schema parses; deleting
 * marks `deleted_at`.
 */
const currentDefinitionColumns = () => ({
  id: text("id").primaryKey(),
  version: integer("version").notNull(),
  definition: text("definition").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  deletedAt: integer("deleted_at"),
});

/** Custom computed traits (segments/custom-traits.ts): the current definition of each. */
export const computedTraits = sqliteTable("computed_traits", currentDefinitionColumns());

/** Replays of the raw event archive (archive/replay.ts), with their progress. */
export const archiveReplays = sqliteTable("archive_replays", {
  id: text("id").primaryKey(),
  /** Days of receipt, YYYY-MM-DD, both included. */
  fromDay: text("from_day").notNull(),
  toDay: text("to_day").notNull(),
  /** Where the replay is: the day being listed and the list cursor within it. */
  day: text("day").notNull(),
  cursor: text("cursor").notNull(),
  objects: integer("objects").notNull().default(0),
  events: integer("events").notNull().default(0),
  startedAt: integer("started_at").notNull(),
  finishedAt: integer("finished_at"),
});

/**
 * Scrubs of the raw event archive after an erasure (archive/scrub.ts), with their progress, so
 * that a scrub survives lost queue messages and restarts: the daily cron resumes any that has
 * not moved for a while. `keys` (the erased identifiers) are kept only while the scrub runs.
 */
export const archiveScrubs = sqliteTable("archive_scrubs", {
  id: text("id").primaryKey(),
  customerId: text("customer_id").notNull(),
  keys: text("keys"),
  fromDay: text("from_day").notNull(),
  toDay: text("to_day").notNull(),
  /** Where the scrub is: the day being listed and the list cursor within it. */
  day: text("day").notNull(),
  cursor: text("cursor").notNull(),
  objects: integer("objects").notNull().default(0),
  rewritten: integer("rewritten").notNull().default(0),
  deleted: integer("deleted").notNull().default(0),
  removed: integer("removed").notNull().default(0),
  startedAt: integer("started_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  finishedAt: integer("finished_at"),
});

/** Generic inbound webhook sources (sources/generic/): how requests are verified and mapped. */
export const sources = sqliteTable("sources", currentDefinitionColumns());

/** Surveys in email (surveys/definition.ts): question, answers, block, thank-you text. */
export const surveys = sqliteTable("surveys", currentDefinitionColumns());

/**
 * Customers holding each answer of each survey now, in each database for its own customers (a
 * commit moves a customer from the old answer to the new, with the profile): summed, the results.
 */
export const surveyAnswers = sqliteTable(
  "survey_answers",
  {
    surveyId: text("survey_id").notNull(),
    answer: text("answer").notNull(),
    customers: integer("customers").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.surveyId, t.answer] })],
);

/** Experiments on content blocks (experiments/definition.ts): variants, weights, metric, status. */
export const experiments = sqliteTable("experiments", currentDefinitionColumns());

/** Every saved version of an experiment (its history, for rollback): the primary key refuses a concurrent save of the same version. */
export const experimentVersions = sqliteTable(
  "experiment_versions",
  {
    experimentId: text("experiment_id").notNull(),
    version: integer("version").notNull(),
    definition: text("definition").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.experimentId, t.version] })],
);

/** Tracking plans (tracking/): per source, a JSON Schema per event and what to do with violations. */
export const trackingPlans = sqliteTable("tracking_plans", currentDefinitionColumns());

/**
 * Events that broke their source's tracking plan: one row per event (its violations as JSON), so
 * a redelivered pack records nothing twice. Counts per event name are GROUP BYs over it; kept
 * as long as the quarantine.
 */
export const trackingViolations = sqliteTable(
  "tracking_violations",
  {
    sourceId: text("source_id").notNull(),
    messageId: text("message_id").notNull(),
    receivedAt: integer("received_at").notNull(),
    planId: text("plan_id").notNull(),
    planVersion: integer("plan_version").notNull(),
    /** The event name for track, else the message type (`identify`, `page`). */
    eventName: text("event_name").notNull(),
    /** allowed | flagged | dropped | quarantined */
    action: text("action").notNull(),
    unplanned: integer("unplanned", { mode: "boolean" }).notNull(),
    /** JSON array of { path, rule, message }. */
    violations: text("violations").notNull(),
  },
  (t) => [primaryKey({ columns: [t.sourceId, t.messageId] })],
);

/** Third-party HTTP enrichers (enrichment/): where to look a customer up, and what to keep. */
export const enrichers = sqliteTable("enrichers", currentDefinitionColumns());

/**
 * Moves of a range of slots from one D1 shard to another (maintenance/slot-move.ts,
 * docs/scaling.md "Moving slots"): one at a time, resumable from its cursor, with what it copied
 * and what the verification counted.
 */
export const slotMoves = sqliteTable("slot_moves", {
  id: text("id").primaryKey(),
  fromBinding: text("from_binding").notNull(),
  toBinding: text("to_binding").notNull(),
  fromSlot: integer("from_slot").notNull(),
  toSlot: integer("to_slot").notNull(),
  /** events (rows' events into objects) → copying → copied (verified; flip SHARDS now) → cleaning → finished; or failed. */
  state: text("state", { enum: ["events", "copying", "copied", "cleaning", "finished", "failed"] }).notNull(),
  /** The table being copied or cleaned, and the key after which the next page starts (JSON). */
  tableName: text("table_name"),
  cursor: text("cursor"),
  /** JSON: rows copied per table. */
  copied: text("copied").notNull().default("{}"),
  /** JSON: the verification, per table (source and target counts) and the customers' digest. */
  verification: text("verification"),
  error: text("error"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  finishedAt: integer("finished_at"),
});

/** Alert rules (alerts/definition.ts): the current version of each. */
export const alertRules = sqliteTable("alert_rules", currentDefinitionColumns());

/** Each rule's alert per subject (a destination host, or "" for the whole system): firing or not, and since when. */
export const alertStates = sqliteTable(
  "alert_states",
  {
    ruleId: text("rule_id").notNull(),
    subject: text("subject").notNull(),
    status: text("status", { enum: ["firing", "resolving", "resolved"] }).notNull(),
    since: integer("since").notNull(),
    dedupKey: text("dedup_key").notNull(),
    value: real("value").notNull(),
    notifiedAt: integer("notified_at").notNull().default(0),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.ruleId, t.subject] })],
);

/** Every notification an evaluation sent (trigger, reminder, resolve) and what each destination answered. */
export const alertHistory = sqliteTable(
  "alert_history",
  {
    seq: integer("seq").primaryKey(),
    ruleId: text("rule_id").notNull(),
    subject: text("subject").notNull(),
    action: text("action", { enum: ["trigger", "remind", "resolve"] }).notNull(),
    at: integer("at").notNull(),
    value: real("value").notNull(),
    dedupKey: text("dedup_key").notNull(),
    /** JSON: per destination { type, ok, status, error }. */
    outcomes: text("outcomes").notNull(),
  },
  (t) => [index("alert_history_at_idx").on(t.at)],
);

/**
 * The pipeline minute by minute (pipeline/minutes.ts): batches, events received, applied,
 * duplicates, quarantined, the oldest message's wait (consumer lag) and events by freshness (ingest
 * to profile written). One upsert per consumer batch, in the control database: the console's
 * charts and the alerts on lag, freshness and volume read it. Best effort: a batch retried after
 * its figures were written counts again.
 */
export const pipelineMinutes = sqliteTable("pipeline_minutes", {
  /** Minutes since 1970-01-01 (UTC). */
  minute: integer("minute").primaryKey(),
  batches: integer("batches").notNull().default(0),
  received: integer("received").notNull().default(0),
  applied: integer("applied").notNull().default(0),
  duplicates: integer("duplicates").notNull().default(0),
  quarantined: integer("quarantined").notNull().default(0),
  lagMaxMs: integer("lag_max_ms").notNull().default(0),
  /** Events by freshness: within 1 s, 5 s, 30 s, later. */
  fresh1s: integer("fresh_1s").notNull().default(0),
  fresh5s: integer("fresh_5s").notNull().default(0),
  fresh30s: integer("fresh_30s").notNull().default(0),
  freshSlow: integer("fresh_slow").notNull().default(0),
});

/**
 * Console sign-ins (src/console/): the cookie carries a random token, only its SHA-256 is stored.
 * Bound to the hash of the key that signed in: a session counts only while that key is active,
 * so revoking the key ends its sessions at once.
 */
export const consoleSessions = sqliteTable("console_sessions", {
  tokenHash: text("token_hash").primaryKey(),
  keyHash: text("key_hash").notNull(),
  role: text("role", { enum: ["admin", "read"] }).notNull(),
  /** The per-session token every console form sends back (CSRF). */
  csrf: text("csrf").notNull(),
  createdAt: integer("created_at").notNull(),
  expiresAt: integer("expires_at").notNull(),
});
