/**
 * A commit that lost a race with another writer of the same customer (the version trigger or a
 * unique key aborted its D1 batch) is read and computed again from the start, a few times, with a
 * short jittered pause: two consumers rarely collide twice in a row.
 */
import { isWriteConflict } from "../db/write-conflict";
import { log } from "../kernel/log";

const MAX_COMMIT_ATTEMPTS = 5;

export class ConcurrentWriteError extends Error {
  override name = "ConcurrentWriteError";
}

/** Runs `attempt` until it commits; a write conflict retries, anything else is thrown as is. */
export async function withRetries<T>(what: string, run: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run(attempt);
    } catch (err) {
      if (!isWriteConflict(err)) throw err;
      if (attempt >= MAX_COMMIT_ATTEMPTS) throw new ConcurrentWriteError(`Gave up after ${attempt} concurrent-write conflicts`);
      log("info", "pipeline.write_conflict", { attempt, what });
      await new Promise((r) => setTimeout(r, 10 * attempt + Math.random() * 20));
    }
  }
}
