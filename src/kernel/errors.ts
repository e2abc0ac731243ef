/**
 * The errors every layer may throw: one list of codes with their HTTP status and title, one error
 * class carrying a code, a detail and the fields at fault. Domain code throws them; the api layer
 * (api/errors.ts) answers them as problem+json, and background work logs them.
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** A field-level complaint: `field` is a dotted path into the request body (`batch[3].event`). */
export interface FieldError {
  field: string;
  message: string;
  /** For template errors: where in the field's text (1-based). */
  line?: number;
  column?: number;
}

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
