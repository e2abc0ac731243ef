/**
 * Rapport: table of contents of the whole system.
 *
 *   sources ──► ingest ──► Queue ──► pipeline ──► each customer's Durable Object (its events) ──► D1 profiles ──► KV snapshot ──► GET /v1/customers/{id}
 *
 * HTTP (Hono, built by createApp):
 *   - ingest/     Segment-compatible tracking API, packing events onto the Queue   (write keys);
 *                 small requests packed together by IngestBuffer objects (ingest/buffer.ts)
 *   - tag/        GET /tag.js: the storefront tag that calls the tracking API      (public)
 *   - sources/    commerce webhooks: /v1/webhooks/shopify                          (HMAC-signed)
 *                 generic sources with declared mappings: /v1/sources/{id} (admin keys),
 *                 /v1/sources/{id}/webhook (the source's signature or token)
 *   - tracking/   tracking plans per source: JSON Schema per event, checked at ingest (allow, flag,
 *                 drop properties, quarantine); violations recorded by the pipeline,
 *                 listed and counted: /v1/tracking-plans                            (admin keys)
 *   - enrichment/ third-party HTTP enrichers: /v1/enrichers; lookups run on the jobs queue,
 *                 answers come back through the pipeline, marked, never over the
 *                 customer's own values                                            (admin keys)
 *   - profiles/   customer profiles and their events, each with its best hour to send (read keys)
 *   - privacy/    erase and export a customer, suppressions                        (admin keys)
 *   - admin/      API keys, quarantine, dead letters and replay; the shards and slot
 *                 moves between them: /v1/admin/shards                             (admin keys)
 *   - archive/    the raw event archive in R2: list, replay days through the pipeline (admin keys)
 *   - api/        createApp, auth, route() (one definition per route); /openapi.json, /docs, /health
 *   - triggers/   behavioural trigger definitions, versioned                       (admin keys)
 *   - delivery/   the delivery log of fired triggers, replay                       (admin keys)
 *   - catalog/    product catalog updates: price drops and restocks                (admin keys)
 *   - segments/   segment rules, members, history, dry runs: /v1/segments;
 *                 custom computed traits: /v1/computed-traits                      (admin keys)
 *   - models/     predictive scores: training set, publish, drift: /v1/admin/models  (admin keys)
 *   - content/    Liquid content blocks: /v1/blocks (admin keys), /preview (page);
 *                 /v1/content/{block}.{html,json,svg,png}, /v1/r/{block}/{slot} and the open
 *                 pixel /v1/o/{block} for emails (signed per customer: no key)
 *   - experiments/ A/B tests of blocks: /v1/experiments, results, ship (admin keys); variants
 *                 decided at render from the block manifest, exposures and outcomes counted on
 *                 profiles and tallied per experiment (experiments/tally.ts)
 *   - reports/    engagement per trigger, block and variant (opens and clicks classified,
 *                 attributed conversions, holdout lift): /v1/reports/engagement, JSON or CSV;
 *                 daily rows the pipeline adds to with each profile write   (admin keys)
 *   - surveys/    surveys in email: /v1/surveys, results (admin keys); one-click answer links
 *                 and AMP forms /v1/s/{survey}/… (the content token: no key); the answer is
 *                 the trait survey_<id> and a Survey Answered event
 *   - alerts/     alert rules on dead letters, quarantine, delivery failures, consumer lag,
 *                 freshness and volume (the pipeline's figures per minute: pipeline/minutes.ts),
 *                 evaluated each minute; PagerDuty (trigger/resolve by dedup key), Slack, signed webhooks;
 *                 /v1/alerts, /v1/alerts/rules, /v1/alerts/history              (admin keys)
 *   - console/    the web console /console: pipeline charts, profiles, segments, triggers and
 *                 deliveries, content, data quality, alerts; signed in with an admin key (acts)
 *                 or a read key (looks), session cookie; uPlot served by the Worker
 * Queues (exact names from queues/names.ts: `rapport-<role>` + QUEUE_SUFFIX; messages checked
 * against their zod schema, undecodable ones kept as dead letters with the reason):
 *   - rapport-events            → pipeline/consumer: identity, events stored (and deduplicated) in
 *                                 each customer's CustomerSession, profile in D1, then the session;
 *                                 every batch archived to R2 (archive/); rapport-events-1 … too
 *                                 (EVENT_QUEUES events queues: queues/event-queues.ts)
 *   - rapport-events-dlq        → queues/dead-letters: store for inspection and replay
 *   - rapport-deliveries        → delivery/consumer: signed webhooks to ESPs, delivery log
 *   - rapport-deliveries-dlq    → delivery/consumer: mark dead, for replay
 *   - rapport-jobs              → jobs/consumer (model/jobs.ts): catalog changes fanned out to viewers'
 *                                 sessions, computed-traits backfill, segment evaluation passes,
 *                                 archive replays and scrubs, enrichment lookups, slot moves
 *                                 between shards (jobs/slot-move.ts)
 *   - rapport-jobs-dlq          → queues/dead-letters: store for inspection and replay
 * D1 (db/): DB, the control database (definitions, keys, deliveries, quarantine); profiles,
 * identifiers, memberships and merge records spread over shards by slot (db/shards.ts, SHARDS;
 * DB is a shard too), written across them in phases (db/sharded-writes.ts).
 * Durable Objects:
 *   - sessions/CustomerSession  one per customer: its stored events and their dedupe marks, live
 *                               session, trigger timers (one alarm), outbox of fired triggers,
 *                               ordered KV snapshot writes (docs/scaling.md)
 *   - experiments/ExperimentTally one per experiment: each exposed customer's outcome and the totals
 *                               per variant the results are computed from (pipeline fan-out)
 *   - ingest/IngestBuffer       a few per Cloudflare location: gathers small ingest requests into one
 *                               queue message, answers them once it is sent (nothing stored)
 * Cron:
 *   - maintenance/retention: delete expired events, quarantine and replayed dead letters
 *   - archive/scrub: resume erasure scrubs of the archive that stopped moving
 *   - privacy/erase: hash suppressions written before they were hashed
 *   - pipeline/finish-merges: finish merges across shards a crash interrupted between phases
 *   - identity/duplicate-scan: merge likely duplicates, keep the doubtful ones for an admin
 *   - segments/backfill: computed traits for old profiles no event has touched (jobs queue)
 *   - segments/pass (00:07 UTC): every profile's segments again, when a rule depends on time
 *   - maintenance/experiments (every 10 minutes): pause experiments on a sample-ratio mismatch, ship winners
 */
import { activeMove } from "./db/slot-moves";
import { registerAdminRoutes } from "./admin/routes";
import { registerDeadLetterRoutes } from "./admin/dead-letter-routes";
import { registerIdentityAdminRoutes } from "./admin/identity-routes";
import { registerShardRoutes } from "./admin/shard-routes";
import { registerKeyRoutes } from "./admin/keys-routes";
import { createApp } from "./api/app";
import { registerIngestRoutes } from "./ingest/routes";
import { log } from "./kernel/log";
import { runRetention } from "./maintenance/retention";
import { registerDocsRoutes } from "./api/docs/routes";
import { consumeEvents } from "./pipeline/consumer";
import { consumeDeadLetters } from "./queues/dead-letters";
import { queueRoles, roleOfQueue, type QueueRole } from "./queues/names";
import { scanDuplicates } from "./pipeline/duplicate-scan";
import { finishMerges } from "./pipeline/finish-merges";
import { registerPrivacyRoutes } from "./privacy/routes";
import { registerProfileRoutes } from "./profiles/routes";
import { consumeDeadDeliveries, consumeDeliveries } from "./delivery/consumer";
import { registerDeliveryRoutes } from "./delivery/routes";
import { registerTriggerRoutes } from "./triggers/routes";
import { registerCatalogRoutes } from "./catalog/routes";
import { consumeJobs } from "./jobs/consumer";
import { backfillNeeded, startBackfill } from "./segments/backfill";
import { registerBlockRoutes } from "./content/routes";
import { registerContentServeRoutes } from "./content/serve-routes";
import { registerOpenPixelRoute } from "./content/open-pixel-routes";
import { registerExperimentRoutes } from "./experiments/routes";
import { registerReportRoutes } from "./reports/routes";
import { registerSurveyRoutes } from "./surveys/routes";
import { registerSurveyAnswerRoutes } from "./surveys/answer-routes";
import { registerAlertRoutes } from "./alerts/routes";
import { ALERTS_CRON } from "./alerts/cron";
import { evaluateAlerts } from "./alerts/evaluate";
import { EXPERIMENTS_CRON, evaluateRunningExperiments } from "./maintenance/experiments";
import { refreshPopulationCurve } from "./maintenance/population-curve";
import { registerPreviewPage } from "./content/preview-page";
import { registerConsoleRoutes } from "./console/routes";
import { registerSegmentRoutes } from "./segments/routes";
import { registerModelRoutes } from "./models/routes";
import { registerCustomTraitRoutes } from "./segments/custom-traits-routes";
import { registerArchiveRoutes } from "./archive/routes";
import { registerShopifyRoutes } from "./sources/shopify/routes";
import { registerSourceRoutes } from "./sources/generic/routes";
import { registerTagRoutes } from "./tag/routes";
import { registerTrackingPlanRoutes } from "./tracking/routes";
import { registerEnricherRoutes } from "./enrichment/routes";
import { dailyPass, SEGMENT_PASS_CRON } from "./segments/pass";
import { resumeStalledScrubs } from "./archive/scrub";
import { hashLegacySuppressions } from "./privacy/erase";

export { CustomerSession } from "./sessions/customer-session";
export { IngestBuffer } from "./ingest/buffer";
export { ExperimentTally } from "./experiments/tally";

/** The whole HTTP API, as the worker serves it (tests read its route table too). */
export function rapportApp() {
  const app = createApp();
  registerIngestRoutes(app);
  registerTagRoutes(app);
  registerShopifyRoutes(app);
  registerSourceRoutes(app);
  registerTrackingPlanRoutes(app);
  registerEnricherRoutes(app);
  registerProfileRoutes(app);
  registerAdminRoutes(app);
  registerKeyRoutes(app);
  registerDeadLetterRoutes(app);
  registerIdentityAdminRoutes(app);
  registerShardRoutes(app);
  registerPrivacyRoutes(app);
  registerTriggerRoutes(app);
  registerCatalogRoutes(app);
  registerDeliveryRoutes(app);
  registerSegmentRoutes(app);
  registerModelRoutes(app);
  registerCustomTraitRoutes(app);
  registerArchiveRoutes(app);
  registerBlockRoutes(app);
  registerContentServeRoutes(app);
  registerOpenPixelRoute(app);
  registerExperimentRoutes(app);
  registerReportRoutes(app);
  registerSurveyRoutes(app);
  registerSurveyAnswerRoutes(app);
  registerAlertRoutes(app);
  registerPreviewPage(app);
  registerConsoleRoutes(app);
  registerDocsRoutes(app);
  return app;
}

const app = rapportApp();

/** What consumes each queue of this deployment (names: queues/names.ts, declared in wrangler.toml). */
const consumers: Record<QueueRole, (batch: MessageBatch<unknown>, env: Env) => Promise<void>> = {
  events: consumeEvents,
  "events-dlq": consumeDeadLetters,
  deliveries: consumeDeliveries,
  "deliveries-dlq": consumeDeadDeliveries,
  jobs: consumeJobs,
  "jobs-dlq": consumeDeadLetters,
};

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    const role = roleOfQueue(env, batch.queue);
    if (role) return consumers[role](batch, env);
    log("error", "queue.unknown", { queue: batch.queue, known: [...queueRoles(env).keys()] });
    batch.retryAll();
  },
  async scheduled(controller, env, ctx) {
    // Alerts every minute, slot move or not (they write no profile; a move is when to watch).
    if (controller.cron === ALERTS_CRON) return ctx.waitUntil(evaluateAlerts(env).then(() => undefined));
    // While slots move between shards nothing writes profiles: the daily jobs skip a day.
    const move = await activeMove(env, { fresh: true });
    if (move) return log("info", "cron.skipped_for_slot_move", { cron: controller.cron, moveId: move.id });
    if (controller.cron === SEGMENT_PASS_CRON) return ctx.waitUntil(dailyPass(env));
    // Every ten minutes: experiments' auto-ship and SRM checks, and the shop's send-time curve.
    if (controller.cron === EXPERIMENTS_CRON) return ctx.waitUntil(Promise.all([evaluateRunningExperiments(env), refreshPopulationCurve(env)]));
    ctx.waitUntil(
      runRetention(env)
        .then(() => Promise.all([resumeStalledScrubs(env), hashLegacySuppressions(env)]))
        .then(() => finishMerges(env))
        .then(() => scanDuplicates(env))
        .then(async () => ((await backfillNeeded(env)) ? startBackfill(env) : undefined)),
    );
  },
} satisfies ExportedHandler<Env, unknown>;
