import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { seedDemoKeys } from "../src/keys/demo";

// Setup files may run several times; both steps are idempotent.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
await seedDemoKeys(env.DB);
// Every shard gets the same migrations (docs/scaling.md).
await applyD1Migrations(env.SHARD_1, env.TEST_MIGRATIONS);
