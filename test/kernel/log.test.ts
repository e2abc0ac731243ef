import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { describeError, errorText } from "../../src/kernel/log";

describe("describeError", () => {
  it("logs a failed query's SQL and the database's error, never its parameters", async () => {
    const failure = await database(env.DB)
      .run(sql`SELECT * FROM no_such_table WHERE email = ${"ada.secret@example.com"}`)
      .then(() => null, (e: unknown) => e);
    const described = describeError(failure);
    expect(described.error).toContain("no such table");
    expect(described.query).toContain("no_such_table");
    expect(JSON.stringify(described)).not.toContain("ada.secret@example.com");
  });

  it("reads an error's causes", () => {
    const err = new Error("outer", { cause: new Error("D1_ERROR: rapport_version_conflict") });
    expect(errorText(err)).toContain("rapport_version_conflict");
    expect(describeError(new Error("plain")).error).toBe("plain");
  });
});
