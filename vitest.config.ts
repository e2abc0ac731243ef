import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig, type ViteUserConfig } from "vitest/config";

// Tests run inside workerd against the real migrations and local D1, KV, Queues and R2.
export default defineConfig(async (): Promise<ViteUserConfig> => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: { TEST_MIGRATIONS: migrations, RETRY_BASE_DELAY_SECONDS: "0" },
          // Deliver queue messages to the consumer quickly in tests. These entries replace the
          // consumers of wrangler.toml, so they repeat its retries and dead-letter queue.
          queueConsumers: {
            "rapport-events": { maxBatchTimeout: 0.05, maxRetries: 5, deadLetterQueue: "rapport-events-dlq" },
            "rapport-events-dlq": { maxBatchTimeout: 0.05 },
          },
        },
      }),
    ],
    test: {
      setupFiles: ["./test/setup.ts"],
      include: ["test/**/*.test.ts"],
      testTimeout: 30_000,
      hookTimeout: 30_000,
      silent: "passed-only",
      // The JSON report lets .ci/run print the plain "N passed, N failed" line.
      reporters: ["default", ["json", { outputFile: "test-results/report.json" }]],
    },
  };
});
