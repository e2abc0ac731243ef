/**
 * One JSON line per log event, so `wrangler tail` output can be filtered with `jq`.
 * @example log("info", "pipeline.batch", { events: 120, customers: 14 })
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export function log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, msg, time: new Date().toISOString(), ...fields });
  // The console method carries the severity too: `wrangler dev` and the dashboard colour by it
  // (an ESP's expected 5xx, retried, is a warning, not a red error line).
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/** The message and stack of anything thrown, for a log line. */
export function describeError(err: unknown): { error: string; query?: string; stack?: string } {
  if (!(err instanceof Error)) return { error: String(err) };
  // A failed drizzle query carries the SQL, its parameters and the database's error as its cause:
  // the cause and the SQL are logged, the parameters never (they hold emails, phone numbers…).
  // Its own message and stack start with the parameters: the cause's stack is logged instead.
  if ("query" in err && "params" in err) {
    const stack = err.cause instanceof Error ? err.cause.stack : undefined;
    return { error: errorText(err.cause), query: String(err.query), ...(stack ? { stack } : {}) };
  }
  return { error: err.message, ...(err.stack ? { stack: err.stack } : {}) };
}

/** An error's message and those of its causes: what a check for a database error code reads. */
export function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    parts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(" ← ");
}
