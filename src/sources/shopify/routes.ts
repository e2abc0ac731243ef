/**
 * `POST /v1/webhooks/shopify`: Shopify's webhooks (orders, checkouts, customers, products),
 * verified with `X-Shopify-Hmac-Sha256` over the raw body against `SHOPIFY_WEBHOOK_SECRETS` (all
 * of them during a rotation). A bad signature gets 401 and nothing is kept. A well-signed payload
 * Rapport cannot map is quarantined with the reason (and answered 200: Shopify retrying it would
 * not help). Events get the id `shopify:<X-Shopify-Webhook-Id>`, so Shopify's retries of a
 * webhook count once.
 */
import { z } from "zod";
import type { App } from "../../api/app";
import { route } from "../../api/route";
import { readConfig } from "../../model/config";
import { sha256Hex } from "../../kernel/crypto";
import { CatalogProduct } from "../../catalog/schemas";
import { applyCatalogUpdate } from "../../catalog/update";
import type { Json } from "../../model/events";
import { ApiError } from "../../kernel/errors";
import { readBodyBytes } from "../../kernel/request-body";
import { fieldErrors, fieldPath } from "../../kernel/field-errors";
import { MAX_NESTING_DEPTH, tooDeepAt } from "../../model/depth";
import { parseJsonExact } from "../../model/exact-json";
import { enqueue, rejection } from "../../ingest/accept";
import { mapShopifyWebhook } from "./mapping";
import { verifyShopifySignature } from "./signature";

const ENDPOINT = "/v1/webhooks/shopify";
const MAX_BODY_BYTES = 1024 * 1024;

const WEBHOOK = {
  method: "post",
  path: ENDPOINT,
  tag: "Sources",
  scope: "signed",
  auth: "X-Shopify-Hmac-Sha256 over the body, with any of SHOPIFY_WEBHOOK_SECRETS",
  summary: "Shopify webhooks (orders/create, orders/paid, checkouts/create, checkouts/update, customers/create, customers/update, products/update), verified with X-Shopify-Hmac-Sha256",
  rawBody: { schema: z.record(z.string(), z.unknown()).describe("The webhook's payload, as Shopify sends it") },
  responses: { 200: "Accepted (or quarantined, with the reason)", 401: "The signature does not match", 503: "SHOPIFY_WEBHOOK_SECRETS is not set" },
} as const;

export function registerShopifyRoutes(app: App): void {
  route(app, WEBHOOK, async (c) => {
    const body = await readBodyBytes(c.req.raw, MAX_BODY_BYTES, "Shopify webhook");
    const secrets = readConfig(c.env).shopifyWebhookSecrets;
    if (secrets.length === 0) throw new ApiError("not_configured", "Shopify webhooks: secret not configured (SHOPIFY_WEBHOOK_SECRETS); set it with `wrangler secret put SHOPIFY_WEBHOOK_SECRETS`");
    if (!(await verifyShopifySignature(body, c.req.header("x-shopify-hmac-sha256"), secrets))) {
      throw new ApiError("unauthorized", "The X-Shopify-Hmac-Sha256 signature does not match the body for any configured secret (SHOPIFY_WEBHOOK_SECRETS)");
    }
    const receivedAt = new Date();
    const ctx = { receivedAt, sourceId: "shopify" };
    const requestId = c.get("requestId");
    const text = new TextDecoder().decode(body);
    const topic = c.req.header("x-shopify-topic") ?? "";
    const quarantine = async (reason: string, errors: { field: string; message: string }[]) => {
      await enqueue(c.env, [], [rejection(`${ENDPOINT} (${topic || "no topic"})`, reason, errors, text)], ctx, requestId);
      return c.json({ success: true, quarantined: reason });
    };
    let payload: Json;
    try {
      payload = parseJsonExact(text) as Json;
      if (typeof payload !== "object" || payload === null || Array.isArray(payload)) throw new Error("not an object");
    } catch {
      return quarantine("invalid_json", [{ field: "(body)", message: "must be a JSON object" }]);
    }
    const tooDeep = tooDeepAt(payload, MAX_NESTING_DEPTH);
    if (tooDeep) return quarantine("too_deep", [{ field: fieldPath(tooDeep), message: `nests deeper than ${MAX_NESTING_DEPTH} levels` }]);
    const webhookId = c.req.header("x-shopify-webhook-id") ?? (await sha256Hex(text)).slice(0, 32);
    const mapped = mapShopifyWebhook({ topic, webhookId, shopDomain: c.req.header("x-shopify-shop-domain"), receivedAt: receivedAt.toISOString() }, payload);
    if ("unmappable" in mapped) return quarantine("unmappable", [{ field: "X-Shopify-Topic", message: mapped.unmappable }]);
    if ("products" in mapped) {
      const products = CatalogProduct.array().safeParse(mapped.products);
      if (!products.success) return quarantine("unmappable", fieldErrors(products.error, "product"));
      await applyCatalogUpdate(c.env, products.data);
      return c.json({ success: true });
    }
    await enqueue(c.env, mapped.events, [], ctx, requestId);
    return c.json({ success: true });
  });
}
