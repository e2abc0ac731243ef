/**
 * A third-party HTTP enricher: a service that knows something about a customer's email domain
 * (firmographics) or email (demographics), declared through `/v1/enrichers/{id}` (admin).
 * docs/enrichment.md.
 *
 *   {
 *     "name": "Company data",
 *     "url": "https://api.example.com/v1/companies?domain={key}",
 *     "key": "emailDomain",                         or "email" (sends the address: mind your DPA)
 *     "headers": { "Authorization": { "secret": "COMPANY_API_KEY", "prefix": "Bearer " } },
 *     "traits": { "company": "name", "industry": "category.industry", "employees": "metrics.employees" },
 *     "timeoutMs": 1500, "cacheTtlSeconds": 604800, "budgetPerBatch": 50, "refreshDays": 30,
 *     "skipFreeEmail": true, "consentCategory": "personalization"
 *   }
 *
 * The response is JSON; each trait is read at its path. A 404 means "nothing known" (cached like
 * an answer); a timeout, a network error, a 429 or a 5xx is retried later.
 */
import { z } from "zod";

export const EnricherId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "must be 1-64 lower-case letters, digits or -, starting with a letter or digit");

const SecretName = z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, "must be the name of a Worker secret (upper case, digits, _)");
const HeaderValue = z.union([z.string().max(1_000), z.object({ secret: SecretName, prefix: z.string().max(100).default("") }).strict()]);

export const EnricherDefinition = z
  .object({
    name: z.string().min(1).max(200),
    url: z
      .url({ protocol: /^https?$/ })
      .max(2_000)
      .refine((u) => u.includes("{key}"), "must contain {key}, where the email domain (or email) goes"),
    key: z.enum(["emailDomain", "email"]).default("emailDomain"),
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,100}$/, "must be a header name"), HeaderValue).default({}),
    /** Trait name → where its value is in the response (`a.b.0.c`). */
    traits: z
      .record(z.string().min(1).max(100), z.string().min(1).max(200))
      .refine((t) => Object.keys(t).length >= 1 && Object.keys(t).length <= 50, "must map 1 to 50 traits"),
    timeoutMs: z.number().int().min(100).max(10_000).default(1_500),
    cacheTtlSeconds: z.number().int().min(60).max(90 * 86_400).default(7 * 86_400),
    /** Lookups (cache misses) one job may make; the rest wait for the next job. */
    budgetPerBatch: z.number().int().min(1).max(500).default(50),
    /** A customer is looked up again after this many days (or when the email changes). */
    refreshDays: z.number().int().min(1).max(365).default(30),
    /** Free mail providers (gmail.com…) say nothing about a company: not looked up. */
    skipFreeEmail: z.boolean().default(true),
    /** Customers who said no to this consent category are not sent to the service. */
    consentCategory: z.string().min(1).max(100).optional(),
    enabled: z.boolean().default(true),
  })
  .strict();
export type EnricherDefinition = z.infer<typeof EnricherDefinition>;

