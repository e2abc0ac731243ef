import { env } from "cloudflare:workers";
import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { mergeBlocks } from "../../src/db/schema";
import { rowsWritten, runBatch } from "../../src/db/statements";
import { uid } from "../helpers";

describe("runBatch", () => {
  it("runs builder statements and sql templates with parameters in one batch", async () => {
    const db = database(env.DB);
    const [a, b] = [uid("pair"), uid("pair")];
    const results = await runBatch(env.DB, [
      db.insert(mergeBlocks).values({ pair: a, createdAt: 1 }),
      db.run(sql`INSERT INTO merge_blocks (pair, created_at) SELECT value, 2 FROM json_each(${JSON.stringify([b])})`),
    ]);
    expect(rowsWritten(results)).toBeGreaterThanOrEqual(2);
    const stored = await db.select().from(mergeBlocks).where(sql`${mergeBlocks.pair} IN (${a}, ${b})`).all();
    expect(stored.map((r) => [r.pair, r.createdAt]).sort()).toEqual([[a, 1], [b, 2]].sort());
  });

  it("commits nothing when one statement fails", async () => {
    const db = database(env.DB);
    const fresh = uid("pair");
    const taken = uid("pair");
    await db.insert(mergeBlocks).values({ pair: taken, createdAt: 1 });
    const batch = runBatch(env.DB, [db.insert(mergeBlocks).values({ pair: fresh, createdAt: 1 }), db.insert(mergeBlocks).values({ pair: taken, createdAt: 2 })]);
    await expect(batch).rejects.toThrow(/UNIQUE/);
    expect(await db.select().from(mergeBlocks).where(eq(mergeBlocks.pair, fresh)).get()).toBeUndefined();
  });

  it("does nothing for no statements", async () => {
    expect(await runBatch(env.DB, [])).toEqual([]);
  });
});
