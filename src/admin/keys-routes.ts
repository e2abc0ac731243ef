/** `/v1/admin/keys` (admin keys): create API keys (the secret shown once), list and revoke them. */
import { z } from "zod";
import type { App } from "../api/app";
import { IdParam, route } from "../api/route";
import { ApiError } from "../kernel/errors";
import { isoOrNull } from "../kernel/time";
import { createKey, listKeys, revokeKey, type ApiKey } from "../keys/store";
import { ApiKeySchema, CreateKeyRequest } from "./schemas";

const keyView = (k: ApiKey) => ({ ...k, createdAt: isoOrNull(k.createdAt)!, revokedAt: isoOrNull(k.revokedAt) });
const TAG = "Admin";

export function registerKeyRoutes(app: App): void {
  route(
    app,
    { method: "post", path: "/v1/admin/keys", tag: TAG, scope: "admin", summary: "Create an API key (the secret is shown once)", body: CreateKeyRequest, responses: { 201: { description: "The key and its secret", schema: ApiKeySchema.extend({ secret: z.string() }) } } },
    async (c, { body }) => {
      const { key, plaintext } = await createKey(c.env.DB, body.kind, body.name);
      return c.json({ ...keyView(key), secret: plaintext }, 201);
    },
  );

  route(app, { method: "get", path: "/v1/admin/keys", tag: TAG, scope: "admin", summary: "List API keys", responses: { 200: { description: "Keys", schema: z.object({ keys: z.array(ApiKeySchema) }) } } }, async (c) =>
    c.json({ keys: (await listKeys(c.env.DB)).map(keyView) }),
  );

  route(app, { method: "delete", path: "/v1/admin/keys/{id}", tag: TAG, scope: "admin", summary: "Revoke an API key", params: IdParam, responses: { 200: { description: "The revoked key", schema: ApiKeySchema }, 404: "No such key" } }, async (c, { params: { id } }) => {
    const key = await revokeKey(c.env.DB, id);
    if (!key) throw new ApiError("not_found", `No key ${id}`);
    return c.json(keyView(key));
  });
}
