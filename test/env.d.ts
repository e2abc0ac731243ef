/// <reference types="vite/client" />
declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    MIGRATION_DB: D1Database;
    TEST_RECEIVER_URL: string;
    // A rate limiter of three requests per 10 s (vitest.config.ts), for the rate-limit tests.
    TIGHT_LIMITER: RateLimit;
    TEST_ENRICHER_URL: string;
    ENRICH_API_KEY: string;
    // The private key of test/access-server.ts's team: tests sign Cloudflare Access assertions with it.
    TEST_ACCESS_PRIVATE_JWK: string;
  }
}
