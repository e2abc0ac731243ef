/**
 * The Hono app factory: request ids, errors as problem+json, the not-found answer. The worker and
 * the tests build the app with this same function. It is an OpenAPIHono: routes defined with
 * `route()` (./route.ts) register their operation in its OpenAPI registry.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { AppEnv } from "./context";
import { problemResponse } from "./errors";
import { ApiError, type ErrorCode } from "../kernel/errors";
import { describeError, log } from "../kernel/log";

const STATUS_CODES: Record<number, ErrorCode> = { 400: "bad_request", 401: "unauthorized", 404: "not_found", 409: "conflict", 415: "unsupported_media_type" };

export function createApp() {
  const app = new OpenAPIHono<AppEnv>();
  app.use(requestId({ headerName: "x-request-id" }));

  app.notFound((c) => problemResponse(new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}`), c.req.path, c.get("requestId")));

  app.onError((err, c) => {
    const id = c.get("requestId") ?? crypto.randomUUID();
    if (err instanceof ApiError) return problemResponse(err, c.req.path, id);
    if (err instanceof HTTPException) {
      const code = STATUS_CODES[err.status] ?? "bad_request";
      return problemResponse(new ApiError(code, err.message || "Request refused"), c.req.path, id);
    }
    log("error", "http.unhandled", { requestId: id, path: c.req.path, method: c.req.method, ...describeError(err) });
    return problemResponse(new ApiError("internal", "Something went wrong on our side; the request id identifies it in the logs"), c.req.path, id);
  });
  return app;
}

export type App = ReturnType<typeof createApp>;
