/**
 * `DELETE /v1/customers/{id}` (erase) and `GET /v1/customers/{id}/export` (everything held about
 * the person), with admin keys; `/v1/admin/suppressions` lists and lifts the suppressions that
 * erasure leaves behind.
 */
import { z } from "zod";
import type { App } from "../api/app";
import { requireKey } from "../api/auth";
import { ApiError } from "../kernel/errors";
import { fieldErrors } from "../kernel/field-errors";
import { forgetOwners, resolveCurrentCustomerId } from "../profiles/read";
import { eraseCustomer, exportCustomer, liftSuppression, listSuppressions } from "./erase";

const EraseQuery = z.object({ reason: z.string().trim().min(1).max(200).default("erasure request") });
const LimitQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

export function registerPrivacyRoutes(app: App): void {
  app.delete("/v1/customers/:id", requireKey("admin"), async (c) => {
    const query = EraseQuery.safeParse(c.req.query());
    if (!query.success) throw new ApiError("validation_failed", "Invalid query parameters", fieldErrors(query.error));
    const id = await resolveCurrentCustomerId(c.env, c.req.param("id"));
    const erasure = id ? await eraseCustomer(c.env, id, query.data.reason) : null;
    if (!erasure) throw new ApiError("not_found", `No customer matches ${JSON.stringify(c.req.param("id"))}`);
    forgetOwners(erasure.identities);
    return c.json({ erased: true, ...erasure });
  });

  app.get("/v1/customers/:id/export", requireKey("admin"), async (c) => {
    const id = await resolveCurrentCustomerId(c.env, c.req.param("id"));
    const data = id ? await exportCustomer(c.env, id) : null;
    if (!data) throw new ApiError("not_found", `No customer matches ${JSON.stringify(c.req.param("id"))}`);
    return c.json(data, 200, { "content-disposition": `attachment; filename="${data.profile.id}.json"`, "cache-control": "no-store" });
  });

  app.get("/v1/admin/suppressions", async (c) => {
    const query = LimitQuery.safeParse(c.req.query());
    if (!query.success) throw new ApiError("validation_failed", "Invalid query parameters", fieldErrors(query.error));
    return c.json({ items: await listSuppressions(c.env, query.data.limit) });
  });

  app.delete("/v1/admin/suppressions/:key", async (c) => {
    const key = c.req.param("key");
    if (!(await liftSuppression(c.env, key))) throw new ApiError("not_found", `No suppression for ${JSON.stringify(key)}`);
    return c.json({ lifted: key });
  });
}
