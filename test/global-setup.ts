// Runs in Node, before the workerd tests: a real HTTP receiver on 127.0.0.1 for webhook
// deliveries. Its URL reaches the worker as the TEST_RECEIVER_URL binding.
import type { TestProject } from "vitest/node";
// @ts-expect-error: a plain .mjs module shared with `npm start`, without type declarations.
import { startReceiver } from "../scripts/webhook-receiver.mjs";

declare module "vitest" {
  interface ProvidedContext {
    receiverUrl: string;
  }
}

export default async function ({ provide }: TestProject) {
  const receiver = await startReceiver();
  provide("receiverUrl", receiver.url);
  return () => receiver.close();
}
