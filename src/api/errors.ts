/**
 * Errors as RFC 9457 problem+json: what the API answers for an ApiError (kernel/errors.ts, the one
 * list of codes and the one error class). Every body carries the request id.
 */
import { ERROR_CODES, type ApiError, type ErrorCode, type FieldError } from "../kernel/errors";

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
