import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig, type ViteUserConfig } from "vitest/config";

/**
 * Test files that also run with every slot in DB (a deployment from before shards: each commit
 * one transaction), and those that run only there (a slot move from DB to SHARD_1).
 */
const ONE_DATABASE_TESTS = ["test/**/*.shards.test.ts", "test/**/*.one-database.test.ts"];

// Tests run inside workerd against the real migrations and local D1, KV, Queues and R2. Two
// projects: every test with the shard map of wrangler.toml (two D1 shards, so that no path
// across shards is only theory: docs/scaling.md), and the shard tests again with one database.
export default defineConfig(async (): Promise<ViteUserConfig> => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  const project = (name: string, include: string[], shardMap?: string, exclude: string[] = []): ViteUserConfig => ({
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            RETRY_BASE_DELAY_SECONDS: "0",
            // Started by test/global-setup.ts: a real HTTP receiver for webhook deliveries.
            TEST_RECEIVER_URL: inject("receiverUrl"),
            // Started by test/global-setup.ts too: a company-data service for enrichment, and its key.
            TEST_ENRICHER_URL: inject("enricherUrl"),
            ENRICH_API_KEY: "enrich_test_key",
            // Cloudflare Access in front of the console (test/access-server.ts): its team domain,
            // the application's audience, the admins, and the private key tests sign assertions with.
            ACCESS_TEAM_DOMAIN: inject("accessUrl"),
            ACCESS_AUD: "rapport-console-test",
            ACCESS_ADMINS: "ops@shop.test,@admins.shop.test",
            TEST_ACCESS_PRIVATE_JWK: inject("accessPrivateJwk"),
            // Two secrets, as during a rotation: both sign.
            WEBHOOK_SECRETS: "whsec_test_new,whsec_test_old",
            // A generic source's secret (named by its definition), mid-rotation.
            POS_WEBHOOK_SECRET: "pos_secret_new,pos_secret_old",
            // An alert rule's PagerDuty routing key (named by the rule).
            PAGERDUTY_ROUTING_KEY: "pd_routing_key_test",
            // SendGrid's signed event webhook: the public key of a pair made for the tests (the private
            // key is in test/sources/sendgrid.test.ts).
            SENDGRID_WEBHOOK_PUBLIC_KEY: "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEMXd9ni4IyKQcXtazOJwxrLJMObA9LVXVNyTTt4qj7eNsVRHJ0RAf2JpoSHwLIGbiqqfEphEg3zOu5TjD2Qb5SQ==",
            ...(shardMap ? { SHARDS: shardMap } : {}),
            // Two events queues, so that ingest's path across them runs (wrangler.toml ships one).
            EVENT_QUEUES: "2",
          },
          // An empty database besides DB, to apply migrations to step by step (test/db/migrations.test.ts).
          // Listed with DB, which these entries would otherwise replace.
          d1Databases: { DB: "00000000-0000-0000-0000-000000000000", SHARD_1: "00000000-0000-0000-0000-000000000010", MIGRATION_DB: "migration-test" },
          // The limits of wrangler.toml (these entries replace its list), and a tight one that the
          // rate-limit tests put in their place, so that a handful of requests reach it.
          ratelimits: {
            INGEST_LIMITER: { namespace_id: "1001", simple: { limit: 6000, period: 10 } },
            READ_LIMITER: { namespace_id: "1002", simple: { limit: 20000, period: 10 } },
            TIGHT_LIMITER: { namespace_id: "1099", simple: { limit: 3, period: 10 } },
          },
          // Deliver queue messages to the consumer quickly in tests. These entries replace the
          // consumers of wrangler.toml, so they repeat its retries and dead-letter queues (fewer
          // delivery retries, to keep the dead-letter test short).
          queueConsumers: {
            "rapport-events": { maxBatchTimeout: 0.05, maxRetries: 5, deadLetterQueue: "rapport-events-dlq" },
            "rapport-events-1": { maxBatchTimeout: 0.05, maxRetries: 5, deadLetterQueue: "rapport-events-dlq" },
            "rapport-events-dlq": { maxBatchTimeout: 0.05 },
            "rapport-deliveries": { maxBatchTimeout: 0.05, maxRetries: 3, deadLetterQueue: "rapport-deliveries-dlq" },
            "rapport-deliveries-dlq": { maxBatchTimeout: 0.05 },
            "rapport-jobs": { maxBatchTimeout: 0.05, maxRetries: 5, deadLetterQueue: "rapport-jobs-dlq" },
            "rapport-jobs-dlq": { maxBatchTimeout: 0.05 },
          },
        },
      })),
    ],
    // wrangler.toml's [[rules]] import the console's charting library as text; Vite's `?raw` does the same here.
    resolve: { alias: [{ find: /^uplot\/dist\/(uPlot\.iife\.min\.js|uPlot\.min\.css)$/, replacement: "uplot/dist/$1?raw" }] },
    test: {
      name,
      globalSetup: ["./test/global-setup.ts"],
      setupFiles: ["./test/setup.ts"],
      include,
      exclude,
      // With one database, files run one at a time: a slot move makes every writer wait.
      fileParallelism: shardMap === undefined,
      // juice/client pulls postcss, whose Node-only imports the plugin cannot resolve in workerd
      // unless Vite pre-bundles it.
      deps: { optimizer: { ssr: { enabled: true, include: ["juice/client"] } } },
      // The demo blocks' stylesheets are read as text by a test; vitest empties CSS files otherwise.
      css: { include: [/src\/content\/blocks\//] },
      testTimeout: 30_000,
      hookTimeout: 30_000,
      silent: "passed-only",
    },
  });
  return {
    test: {
      projects: [project("two shards", ["test/**/*.test.ts"], undefined, ["test/**/*.one-database.test.ts"]), project("one database", ONE_DATABASE_TESTS, "DB:0-1023")],
      // The JSON report lets .ci/run print the plain "N passed, N failed" line.
      reporters: ["default", ["json", { outputFile: "test-results/report.json" }]],
    },
  };
});
