/**
 * The outbound queue's consumer: posts each fired trigger to its destination, signed, and logs
 * the outcome. At-least-once on both sides is made safe by the delivery id: a delivered id is
 * skipped, and destinations get it as `Idempotency-Key` to drop the rare concurrent duplicate.
 *
 * 2xx: delivered. 408, 425, 429 and 5xx, timeouts and network errors: retried with exponential
 * backoff (or the destination's Retry-After), then the dead-letter queue. Any other answer
 * (4xx, redirects): rejected at once, since retrying cannot fix it; an admin may replay it.
 */
import { checkOutboundUrl, outboundPolicy } from "../kernel/outbound-url";
import { readConfig } from "../model/config";
import { describeError, log } from "../kernel/log";
import { decodeOrSetAside } from "../queues/dead-letters";
import { MAX_RETRY_DELAY_SECONDS, retryDelaySeconds } from "../queues/retry";
import { contentToken } from "../content/links";
import { authorization, formatBody } from "./formats";
import { DeliveryMessageSchema, type DeliveryMessage, type TriggerFiredPayload } from "../triggers/delivery-message";
import { SIGNATURE_HEADER, signatureHeader } from "./signature";
import { deliveryStatus, FINAL_STATUSES, recordAttempt, type AttemptRecord } from "./store";

const TIMEOUT_MS = 10_000;
const RETRYABLE = new Set([408, 425, 429]);

export type AttemptOutcome = AttemptRecord & { retryAfterSeconds?: number };

/**
 * The customer's content token (content/links.ts) goes with every delivery, so the ESP message
 * the trigger starts can embed personalized content blocks. Derived at send time, never queued.
 */
async function withContentToken(env: Env, payload: TriggerFiredPayload): Promise<TriggerFiredPayload> {
  const secrets = readConfig(env).contentSecrets;
  if (secrets.length === 0) return payload;
  return { ...payload, customer: { ...payload.customer, contentToken: await contentToken(secrets, payload.customer.id) } };
}

/** One POST to the destination. Never throws: every failure is an outcome. */
export async function attemptDelivery(env: Env, m: DeliveryMessage, attempt: number): Promise<AttemptOutcome> {
  try {
    const { body, contentType, headers } = formatBody(m.destination, await withContentToken(env, m.payload));
    const auth = authorization(m.destination, env);
    const signature = await signatureHeader(body, readConfig(env).webhookSecrets, Math.floor(Date.now() / 1000));
    // The policy again at call time: the destination may have been saved under another one.
    const allowed = checkOutboundUrl(m.destination.url, outboundPolicy(readConfig(env), true));
    if (!allowed.ok) return { status: "rejected", statusCode: null, error: `destination refused: ${allowed.reason}`, attempts: 1 };
    const res = await fetch(allowed.url.href, {
      method: "POST",
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(TIMEOUT_MS),
      headers: {
        ...headers,
        "content-type": contentType,
        "user-agent": "Rapport-Webhooks/1",
        [SIGNATURE_HEADER]: signature,
        "idempotency-key": m.deliveryId,
        "rapport-delivery-attempt": String(attempt),
        ...(auth ? { authorization: auth } : {}),
      },
    });
    await res.body?.cancel();
    if (res.ok) return { status: "delivered", statusCode: res.status, error: null, attempts: 1 };
    const retryable = res.status >= 500 || RETRYABLE.has(res.status);
    const retryAfter = Number(res.headers.get("retry-after"));
    return {
      status: retryable ? "retrying" : "rejected",
      statusCode: res.status,
      error: `HTTP ${res.status}${retryable ? "" : " (not retried)"}`,
      attempts: 1,
      ...(retryable && Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: Math.min(retryAfter, MAX_RETRY_DELAY_SECONDS) } : {}),
    };
  } catch (err) {
    // Misconfiguration (no secret) and network failures alike: retried, and visible in the log.
    return { status: "retrying", statusCode: null, error: describeError(err).error, attempts: 1 };
  }
}

export async function consumeDeliveries(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const d1 = env.DB;
  const base = readConfig(env).retryBaseDelaySeconds;
  await Promise.all(
    batch.messages.map(async (message) => {
      const m = await decodeOrSetAside(env, batch.queue, message, DeliveryMessageSchema, "a delivery message of version 1");
      if (!m) return;
      try {
        const status = await deliveryStatus(d1, m.deliveryId);
        if (status && FINAL_STATUSES.includes(status)) {
          log("info", "delivery.skipped", { deliveryId: m.deliveryId, status });
          message.ack();
          return;
        }
        const outcome = await attemptDelivery(env, m, message.attempts);
        const d1RowsWritten = await recordAttempt(d1, m, outcome);
        // dueAt: how long after its due time the webhook was delivered (the benchmark reads it).
        log(outcome.status === "delivered" ? "info" : "warn", "delivery.attempt", { deliveryId: m.deliveryId, triggerId: m.payload.trigger.id, attempt: message.attempts, status: outcome.status, statusCode: outcome.statusCode, error: outcome.error, d1RowsWritten, msAfterDue: Date.now() - Date.parse(m.payload.dueAt) });
        if (outcome.status === "retrying") message.retry({ delaySeconds: outcome.retryAfterSeconds ?? retryDelaySeconds(message.attempts, base) });
        else message.ack();
      } catch (err) {
        log("error", "delivery.failed", { deliveryId: m.deliveryId, ...describeError(err) });
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts, base) });
      }
    }),
  );
}

/** Deliveries that exhausted their retries: marked dead in the log, where an admin can replay them. */
export async function consumeDeadDeliveries(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const d1 = env.DB;
  for (const message of batch.messages) {
    const m = await decodeOrSetAside(env, batch.queue, message, DeliveryMessageSchema, "a delivery message of version 1");
    if (!m) continue;
    if ((await deliveryStatus(d1, m.deliveryId)) !== "delivered") {
      await recordAttempt(d1, m, { status: "dead", statusCode: null, error: "retries exhausted before any attempt was logged", attempts: 0 });
      log("error", "delivery.dead", { deliveryId: m.deliveryId, triggerId: m.payload.trigger.id });
    }
    message.ack();
  }
}
