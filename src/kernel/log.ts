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
export function describeError(err: unknown): { error: string; stack?: string } {
  if (err instanceof Error) return { error: err.message, ...(err.stack ? { stack: err.stack } : {}) };
  return { error: String(err) };
}
