// Runs in Node, before the workerd tests: a real HTTP receiver on 127.0.0.1 for webhook
// deliveries, a company-data service for the enrichment tests, and Cloudflare Access's public keys
// for the console's. Their URLs reach the worker as the TEST_RECEIVER_URL, TEST_ENRICHER_URL and
// ACCESS_TEAM_DOMAIN bindings.
import type { TestProject } from "vitest/node";
// @ts-expect-error: a plain .mjs module shared with `npm start`, without type declarations.
import { startReceiver } from "../scripts/webhook-receiver.mjs";
import { startEnrichmentServer } from "./enrichment-server";
import { startAccessServer } from "./access-server";

declare module "vitest" {
  interface ProvidedContext {
    receiverUrl: string;
    enricherUrl: string;
    accessUrl: string;
    accessPrivateJwk: string;
  }
}

export default async function ({ provide }: TestProject) {
  const receiver = await startReceiver();
  const enricher = await startEnrichmentServer();
  const access = await startAccessServer();
  provide("receiverUrl", receiver.url);
  provide("enricherUrl", enricher.url);
  provide("accessUrl", access.url);
  provide("accessPrivateJwk", access.privateJwk);
  return async () => {
    await receiver.close();
    await enricher.close();
    await access.close();
  };
}
