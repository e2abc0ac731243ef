/**
 * Rapport: table of contents of the whole system.
 *
 *   sources ──► ingest ──► Queue ──► pipeline ──► D1 profiles ──► KV snapshot ──► GET /v1/customers/{id}
 *
 * HTTP (Hono, built by createApp):
 *   - ingest/     Segment-compatible tracking API, packing events onto the Queue   (write keys)
 *   - profiles/   customer profiles and their events                               (read keys)
 *   - privacy/    erase and export a customer, suppressions                        (admin keys)
 *   - admin/      API keys, quarantine, dead letters and replay                    (admin keys)
 *   - openapi/    /openapi.json and /docs
 * Queues:
 *   - rapport-events*       → pipeline/consumer: dedupe, identity, profile, snapshot
 *   - rapport-events-dlq*   → pipeline/dead-letters: store for inspection and replay
 * Cron:
 *   - maintenance/retention: delete expired events, quarantine and replayed dead letters
 *   - identity/duplicate-scan: merge likely duplicates, keep the doubtful ones for an admin
 */
import { registerAdminRoutes } from "./admin/routes";
import { createApp } from "./app";
import { registerIngestRoutes } from "./ingest/routes";
import { log } from "./log";
import { runRetention } from "./maintenance/retention";
import { registerDocsRoutes } from "./openapi/routes";
import { consumeEvents } from "./pipeline/consumer";
import { consumeDeadLetters } from "./pipeline/dead-letters";
import { scanDuplicates } from "./identity/duplicate-scan";
import { registerPrivacyRoutes } from "./privacy/routes";
import { registerProfileRoutes } from "./profiles/routes";

const app = createApp();
app.get("/health", (c) => c.json({ ok: true }));
registerIngestRoutes(app);
registerProfileRoutes(app);
registerAdminRoutes(app);
registerPrivacyRoutes(app);
registerDocsRoutes(app);

/** Queue names carry an environment suffix (`rapport-events-staging`); the DLQ's has `-dlq`. */
export const isDeadLetterQueue = (queue: string) => queue.startsWith("rapport-events-dlq");

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    if (isDeadLetterQueue(batch.queue)) return consumeDeadLetters(batch, env);
    if (batch.queue.startsWith("rapport-events")) return consumeEvents(batch, env);
    log("error", "queue.unknown", { queue: batch.queue });
    batch.retryAll();
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(runRetention(env).then(() => scanDuplicates(env)).then(() => undefined));
  },
} satisfies ExportedHandler<Env, unknown>;
