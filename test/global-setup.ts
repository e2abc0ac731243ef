// Runs in Node, before the workerd tests: a real HTTP receiver on 127.0.0.1 for webhook
// deliveries, and a company-data service for the enrichment tests. Their URLs reach the worker as
// the TEST_RECEIVER_URL and TEST_ENRICHER_URL bindings.
import type { TestProject } from "vitest/node";
// @ts-expect-error: a plain .mjs module shared with `npm start`, without type declarations.
import { startReceiver } from "../scripts/webhook-receiver.mjs";
import { startEnrichmentServer } from "./enrichment-server";

declare module "vitest" {
  interface ProvidedContext {
    receiverUrl: string;
    enricherUrl: string;
  }
}

export default async function ({ provide }: TestProject) {
  const receiver = await startReceiver();
  const enricher = await startEnrichmentServer();
  provide("receiverUrl", receiver.url);
  provide("enricherUrl", enricher.url);
  return async () => {
    await receiver.close();
    await enricher.close();
  };
}
