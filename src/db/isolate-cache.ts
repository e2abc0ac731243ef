/**
 * A value read from D1 and kept in the isolate for a while (definitions the hot paths consult:
 * tracking plans at ingest, enrichers in the pipeline). Requests that arrive during a read share
 * it; if a read fails, the value held is kept (and, with none, the failure is thrown).
 * `forget()` makes the next call read again: after a save in this isolate.
 */
export interface IsolateCache<T> {
  get(d1: D1Database): Promise<T>;
  forget(): void;
}

export function isolateCache<T>(load: (d1: D1Database) => Promise<T>, ttlMs: number, onStale?: (err: unknown) => void): IsolateCache<T> {
  let held: { at: number; value: T } | null = null;
  let loading: Promise<T> | null = null;
  return {
    async get(d1) {
      if (held && Date.now() - held.at <= ttlMs) return held.value;
      loading ??= load(d1).finally(() => (loading = null));
      try {
        const value = await loading;
        held = { at: Date.now(), value };
        return value;
      } catch (err) {
        if (!held) throw err;
        onStale?.(err);
        return held.value;
      }
    },
    forget() {
      held = null;
    },
  };
}
