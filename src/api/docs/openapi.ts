/**
 * `/openapi.json`: every operation comes from its route's definition (`route()`, ../route.ts),
 * registered in the app's OpenAPI registry; this adds what the operations share: the API's
 * description, its security schemes and the schemas they refer to.
 */
import { z } from "zod";
import { CustomerProfile } from "../../profiles/document";
import type { App } from "../app";
import { jsonSchema } from "../route";

const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: z.string().describe("Stable machine-readable code (kernel/errors.ts)"),
  detail: z.string(),
  instance: z.string(),
  requestId: z.string().describe("Also the X-Request-Id header; the logs carry it"),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional().describe("Each field at fault"),
});

const SECURITY_SCHEMES = {
  writeKeyBasic: { type: "http", scheme: "basic", description: "Write key as the user name, empty password (as Segment SDKs send it)" },
  writeKeyInBody: { type: "apiKey", in: "header", name: "writeKey", description: "Or `writeKey` in the JSON body (OpenAPI cannot say so; the header is never read)" },
  readKey: { type: "http", scheme: "bearer", description: "Read key (secret)" },
  adminKey: { type: "http", scheme: "bearer", description: "Admin key (secret)" },
};

export function openApiDocument(app: App, serverUrl: string) {
  const document = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: { title: "Rapport API", version: "0.1.0", description: "Edge-native customer data and email personalization. Ingest is compatible with Segment's HTTP Tracking API." },
    servers: [{ url: serverUrl }],
  });
  return {
    ...document,
    components: { ...document.components, securitySchemes: SECURITY_SCHEMES, schemas: { ...document.components?.schemas, Problem: jsonSchema(Problem), CustomerProfile: jsonSchema(CustomerProfile) } },
  };
}
