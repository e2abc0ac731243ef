/**
 * Errors as RFC 9457 problem+json, in one place: one list of codes, one error class, and the
 * mapping from code to status and title. Every body carries the request id.
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { FieldError } from "../model/events";

export const ERROR_CODES = {
  bad_request: { status: 400, title: "Bad request" },
  validation_failed: { status: 400, title: "Validation failed" },
  payload_too_large: { status: 413, title: "Payload over a limit" },
  unauthorized: { status: 401, title: "Unauthorized" },
  not_found: { status: 404, title: "Not found" },
  conflict: { status: 409, title: "Conflict" },
  precondition_failed: { status: 412, title: "Precondition failed" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  rate_limited: { status: 429, title: "Too many requests" },
  queue_unavailable: { status: 503, title: "Queue unavailable" },
  not_configured: { status: 503, title: "Not configured" },
  internal: { status: 500, title: "Internal server error" },
} as const satisfies Record<string, { status: ContentfulStatusCode; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;


export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly errors: FieldError[] = [],
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = "ApiError";
  }

  get status(): ContentfulStatusCode {
    return ERROR_CODES[this.code].status;
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  instance: string;
  requestId: string;
  errors?: FieldError[];
  [extra: string]: unknown;
}

export function problemBody(err: ApiError, instance: string, requestId: string): Problem {
  const { title, status } = ERROR_CODES[err.code];
  return {
    ...err.extra,
    type: `https://rapport.dev/problems/${err.code}`,
    title,
    status,
    code: err.code,
    detail: err.detail,
    instance,
    requestId,
    ...(err.errors.length > 0 ? { errors: err.errors } : {}),
  };
}

export function problemResponse(err: ApiError, instance: string, requestId: string, headers: HeadersInit = {}): Response {
  // A refusal that says when to come back says it in the header clients read too.
  const retryAfter: Record<string, string> = typeof err.extra.retryAfterSeconds === "number" ? { "retry-after": String(err.extra.retryAfterSeconds) } : {};
  return new Response(JSON.stringify(problemBody(err, instance, requestId)), {
    status: err.status,
    headers: { ...Object.fromEntries(new Headers(headers)), ...retryAfter, "content-type": "application/problem+json", "x-request-id": requestId },
  });
}
