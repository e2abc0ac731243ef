/**
 * Configuration read from `[vars]` in wrangler.toml, checked once at the boundary so that a
 * mistyped value fails with a clear message instead of a NaN deep in the pipeline.
 */
import { z } from "zod";
import { parseLimits, parsePriority, type IdentityRules } from "./identity-rules";

function parseVar<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new Error(`Invalid configuration variable ${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const ConfigSchema = z.object({
  ENVIRONMENT: z.string().default("local"),
  QUEUE_SUFFIX: z.string().regex(/^(-[a-z0-9-]+)?$/, "must be empty or like -production").default(""),
  EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  RETRY_BASE_DELAY_SECONDS: z.coerce.number().int().min(0).max(3600).default(5),
  IDENTITY_LIMITS: z.string().default("user_id=1"),
  IDENTITY_PRIORITY: z.string().default("user_id,email,phone,external,anonymous_id"),
  DUPLICATE_AUTO_MERGE_SCORE: z.coerce.number().min(0.75).max(1.01).default(0.92),
  SESSION_TIMEOUT_MINUTES: z.coerce.number().int().min(1).max(1440).default(30),
  RECENT_VIEWS_MAX: z.coerce.number().int().min(1).max(100).default(20),
  WEBHOOK_SECRETS: z.string().default(""),
  SHOPIFY_WEBHOOK_SECRETS: z.string().default(""),
  CATALOG_AUDIENCE_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  CONTENT_SECRETS: z.string().default(""),
  SUPPRESSION_SECRETS: z.string().default(""),
  CART_RESERVATION_MINUTES: z.coerce.number().int().min(1).max(43_200).default(1440),
  CONTENT_RENDER_BUDGET_MS: z.coerce.number().int().min(50).max(10_000).default(1500),
  CONTENT_MAX_AGE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  AMP_ALLOWED_SENDERS: z.string().default(""),
  ACCESS_TEAM_DOMAIN: z.union([z.literal(""), z.url({ protocol: /^https?$/ })]).default(""),
  ACCESS_AUD: z.string().default(""),
  ACCESS_ADMINS: z.string().default(""),
  PUBLIC_URL: z.union([z.literal(""), z.url({ protocol: /^https?$/ })]).default(""),
  CONTENT_CONSENT_CATEGORIES: z.string().default("personalization"),
  ALLOW_PRIVATE_OUTBOUND: z.enum(["true", "false", ""]).default(""),
  EVENT_QUEUES: z.coerce.number().int().min(1).max(100).default(1),
  INGEST_BUFFERS: z.coerce.number().int().min(0).max(1000).default(0),
  INGEST_PACK_EVENTS: z.coerce.number().int().min(1).max(1000).default(20),
  INGEST_PACK_WAIT_MS: z.coerce.number().int().min(1).max(1000).default(50),
  ATTRIBUTION_EVENTS: z.string().default("Order Completed"),
  ATTRIBUTION_CLICK_DAYS: z.coerce.number().min(0).max(90).default(5),
  ATTRIBUTION_OPEN_DAYS: z.coerce.number().min(0).max(90).default(5),
  DEFAULT_PHONE_COUNTRY: z
    .string()
    .regex(/^([A-Za-z]{2})?$/, "must be an ISO 3166-1 alpha-2 country code, or empty")
    .default("")
    .transform((v) => v.toUpperCase()),
});

export type Config = {
  environment: string;
  /** Ends the name of each queue of this deployment: `rapport-events` + `-production` (src/queues/names.ts). */
  queueSuffix: string;
  eventRetentionDays: number;
  retryBaseDelaySeconds: number;
  /** Per-kind limits of identifiers per profile, and the priority that picks merge survivors. */
  identityRules: IdentityRules;
  /** Duplicate candidates scoring at least this merge automatically (above 1: never). */
  duplicateAutoMergeScore: number;
  /** Country of phone numbers written without a country code; undefined: such numbers are flagged. */
  defaultPhoneCountry: string | undefined;
  /** Inactivity after which the next event opens a new session. */
  sessionTimeoutMinutes: number;
  /** How many recently viewed products a session keeps. */
  recentViewsMax: number;
  /** Webhook signing secrets, newest first; every one signs during a rotation. Empty: deliveries fail. */
  webhookSecrets: string[];
  /** Secrets Shopify signs its webhooks with (the app's client secret), newest first; every one verifies. */
  shopifyWebhookSecrets: string[];
  /** A price drop or restock reaches the customers who viewed the product within this many days. */
  catalogAudienceDays: number;
  /** Secrets of content links (tokens and signatures), newest first; every one verifies during a rotation. */
  contentSecrets: string[];
  /** Secrets of the keyed hashes erased identifiers are remembered by, newest first (privacy/suppression-hash.ts). */
  suppressionSecrets: string[];
  /** How long a cart is held after its last change: templates show it as `cart.reserved_until`. */
  cartReservationMinutes: number;
  /** A content render taking longer serves the block's fallback. */
  contentRenderBudgetMs: number;
  /** How long ESPs may keep a send-time HTML or JSON answer (Braze keeps it 5 minutes anyway). */
  contentMaxAgeSeconds: number;
  /**
   * Cloudflare Access in front of the console (docs/console.md): the team domain whose keys sign
   * the `Cf-Access-Jwt-Assertion` header, the application's audience tag, and who among the signed-in
   * is an admin (emails or `@domain`; everyone else only looks). Empty domain: keys only.
   */
  access: { teamDomain: string; aud: string; admins: string[] } | null;
  /** Where people reach this deployment (`https://rapport.shop.com`): alert notifications link to its console. Empty: no links. */
  publicUrl: string;
  /** AMP senders whose emails may load content (`news@shop.com` or `@shop.com`); empty: any sender. */
  ampAllowedSenders: string[];
  /** Consent categories a customer must not have declined to get personalized content. */
  contentConsentCategories: string[];
  /** Outbound calls (destinations, enrichers) may reach private and loopback hosts: local development only. */
  allowPrivateOutbound: boolean;
  /** Event queues of this deployment: `EVENTS`, then `EVENTS_1` … (queues/event-queues.ts). */
  eventQueues: number;
  /** Ingest buffer objects per Cloudflare location that pack small requests together; 0: none (ingest/buffer.ts). */
  ingestBuffers: number;
  /** A buffer sends its pack when it holds this many messages … */
  ingestPackEvents: number;
  /** … or when its first request has waited this long. */
  ingestPackWaitMs: number;
  /**
   * Email attribution (profiles/engagement.ts): the events that count as conversions, credited to
   * the last human click within `clickWindowMs`, else open within `openWindowMs` (0: opens never).
   */
  attribution: { conversionEvents: string[]; clickWindowMs: number; openWindowMs: number };
};

const listOf = (value: string) => value.split(",").map((s) => s.trim()).filter(Boolean);

const cache = new WeakMap<object, Config>();

/** Parses (once per env object) the vars of `env`; throws naming the bad variable. */
export function readConfig(env: Env): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Invalid configuration variable ${issue?.path.join(".")}: ${issue?.message}`);
  }
  const config: Config = {
    environment: parsed.data.ENVIRONMENT,
    queueSuffix: parsed.data.QUEUE_SUFFIX,
    eventRetentionDays: parsed.data.EVENT_RETENTION_DAYS,
    retryBaseDelaySeconds: parsed.data.RETRY_BASE_DELAY_SECONDS,
    defaultPhoneCountry: parsed.data.DEFAULT_PHONE_COUNTRY || undefined,
    duplicateAutoMergeScore: parsed.data.DUPLICATE_AUTO_MERGE_SCORE,
    sessionTimeoutMinutes: parsed.data.SESSION_TIMEOUT_MINUTES,
    recentViewsMax: parsed.data.RECENT_VIEWS_MAX,
    catalogAudienceDays: parsed.data.CATALOG_AUDIENCE_DAYS,
    webhookSecrets: listOf(parsed.data.WEBHOOK_SECRETS),
    shopifyWebhookSecrets: listOf(parsed.data.SHOPIFY_WEBHOOK_SECRETS),
    contentSecrets: listOf(parsed.data.CONTENT_SECRETS),
    suppressionSecrets: listOf(parsed.data.SUPPRESSION_SECRETS),
    cartReservationMinutes: parsed.data.CART_RESERVATION_MINUTES,
    contentRenderBudgetMs: parsed.data.CONTENT_RENDER_BUDGET_MS,
    contentMaxAgeSeconds: parsed.data.CONTENT_MAX_AGE_SECONDS,
    access: parsed.data.ACCESS_TEAM_DOMAIN && parsed.data.ACCESS_AUD ? { teamDomain: parsed.data.ACCESS_TEAM_DOMAIN.replace(/\/+$/, ""), aud: parsed.data.ACCESS_AUD, admins: listOf(parsed.data.ACCESS_ADMINS).map((a) => a.toLowerCase()) } : null,
    publicUrl: parsed.data.PUBLIC_URL.replace(/\/+$/, ""),
    ampAllowedSenders: listOf(parsed.data.AMP_ALLOWED_SENDERS).map((s) => s.toLowerCase()),
    contentConsentCategories: listOf(parsed.data.CONTENT_CONSENT_CATEGORIES),
    allowPrivateOutbound: parsed.data.ALLOW_PRIVATE_OUTBOUND === "true",
    eventQueues: parsed.data.EVENT_QUEUES,
    ingestBuffers: parsed.data.INGEST_BUFFERS,
    ingestPackEvents: parsed.data.INGEST_PACK_EVENTS,
    ingestPackWaitMs: parsed.data.INGEST_PACK_WAIT_MS,
    attribution: { conversionEvents: listOf(parsed.data.ATTRIBUTION_EVENTS), clickWindowMs: parsed.data.ATTRIBUTION_CLICK_DAYS * 86_400_000, openWindowMs: parsed.data.ATTRIBUTION_OPEN_DAYS * 86_400_000 },
    identityRules: { limits: parseVar("IDENTITY_LIMITS", () => parseLimits(parsed.data.IDENTITY_LIMITS)), priority: parseVar("IDENTITY_PRIORITY", () => parsePriority(parsed.data.IDENTITY_PRIORITY)) },
  };
  cache.set(env, config);
  return config;
}
