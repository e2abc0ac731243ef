/**
 * `DELETE /v1/customers/{id}` (erase) and `GET /v1/customers/{id}/export` (everything held about
 * the person), with admin keys; `/v1/admin/suppressions` lists and lifts the suppressions that
 * erasure leaves behind.
 */
import { z } from "zod";
import type { App } from "../api/app";
import { IdParam, route } from "../api/route";
import { ApiError } from "../kernel/errors";
import { forgetOwners, resolveCurrentCustomerId } from "../profiles/read";
import { eraseCustomer, exportCustomer, liftSuppression, listSuppressions } from "./erase";

const EraseQuery = z.object({ reason: z.string().trim().min(1).max(200).default("erasure request") });
const LimitQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

const TAG = "Privacy";

export function registerPrivacyRoutes(app: App): void {
  route(
    app,
    { method: "delete", path: "/v1/customers/{id}", tag: TAG, scope: "admin", summary: "Erase a customer: profile, identities, events, snapshots; later events with its identifiers are dropped", params: IdParam, query: EraseQuery, responses: { 200: "What was erased", 404: "No such customer" } },
    async (c, { params, query: { reason } }) => {
      const id = await resolveCurrentCustomerId(c.env, params.id);
      const erasure = id ? await eraseCustomer(c.env, id, reason) : null;
      if (!erasure) throw new ApiError("not_found", `No customer matches ${JSON.stringify(params.id)}`);
      forgetOwners(erasure.identities);
      return c.json({ erased: true, ...erasure });
    },
  );

  route(app, { method: "get", path: "/v1/customers/{id}/export", tag: TAG, scope: "admin", summary: "Everything held about a customer: profile and events", params: IdParam, responses: { 200: "The export", 404: "No such customer" } }, async (c, { params }) => {
    const id = await resolveCurrentCustomerId(c.env, params.id);
    const data = id ? await exportCustomer(c.env, id) : null;
    if (!data) throw new ApiError("not_found", `No customer matches ${JSON.stringify(params.id)}`);
    return c.json(data, 200, { "content-disposition": `attachment; filename="${data.profile.id}.json"`, "cache-control": "no-store" });
  });

  route(app, { method: "get", path: "/v1/admin/suppressions", tag: TAG, scope: "admin", summary: "Identifiers of erased customers, whose events are dropped", query: LimitQuery, responses: { 200: "Suppressions" } }, async (c, { query: { limit } }) =>
    c.json({ items: await listSuppressions(c.env, limit) }),
  );

  route(app, { method: "delete", path: "/v1/admin/suppressions/{key}", tag: TAG, scope: "admin", summary: "Lift a suppression: events with this identifier are accepted again", params: z.object({ key: z.string() }), responses: { 200: "Lifted", 404: "No such suppression" } }, async (c, { params: { key } }) => {
    if (!(await liftSuppression(c.env, key))) throw new ApiError("not_found", `No suppression for ${JSON.stringify(key)}`);
    return c.json({ lifted: key });
  });
}
