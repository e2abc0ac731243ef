import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("migration 0017: customers becomes a rowid table", () => {
  it("keeps every customer with every column, its id unique, and the version guards", async () => {
    const db = env.MIGRATION_DB;
    await applyD1Migrations(db, env.TEST_MIGRATIONS.filter((m) => m.name < "0017"));
    const columns = {
      id: "cus_before", traits: '{"plan":"pro"}', trait_times: '{"plan":[1,"m1"]}', trait_issues: '{"phone":"invalid"}', consent: '{"at":1}', counters: '{"types":{"track":2}}',
      event_count: 2, recent_events: '[{"messageId":"m1"},{"messageId":"m2"}]', identity_keys: '["user_id:42"]', chunk_count: 1, first_seen_at: 10, last_seen_at: 20, version: 1,
      served_at: 30, created_at: 5, updated_at: 40, session_at: 35, computed: '{"x":1}', aggregates: '{"a":1}', segments: '{"s":[1,2]}', scores: '{"at":3}', enrichment: '{"e":["d",4]}',
      recent_ids: '["m1","m2"]', recent_length: 38,
    };
    const names = Object.keys(columns);
    await db.prepare(`INSERT INTO customers (${names.join(", ")}) VALUES (${names.map((_, i) => `?${i + 1}`).join(", ")})`).bind(...Object.values(columns)).run();

    await applyD1Migrations(db, env.TEST_MIGRATIONS.filter((m) => m.name < "0018"));
    expect(await db.prepare("SELECT * FROM customers").all()).toMatchObject({ results: [columns] });
    const table = await db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'customers'").first<{ sql: string }>();
    expect(table!.sql).not.toMatch(/WITHOUT ROWID/i);
    // The largest column comes last: reading the others does not walk its overflow pages.
    const order = (await db.prepare("SELECT name FROM pragma_table_info('customers')").all<{ name: string }>()).results.map((r) => r.name);
    expect(order.at(-1)).toBe("recent_events");
    expect(order.sort()).toEqual([...names].sort());

    await expect(db.prepare("UPDATE customers SET version = 5 WHERE id = 'cus_before'").run()).rejects.toThrow(/rapport_version_conflict/);
    await expect(db.prepare("INSERT INTO customers (id, version, created_at, updated_at) VALUES ('cus_gone', 2, 0, 0)").run()).rejects.toThrow(/rapport_version_conflict/);
    await expect(db.prepare("INSERT INTO customers (id, created_at, updated_at) VALUES ('cus_before', 0, 0)").run()).rejects.toThrow(/UNIQUE/);

    // Migration 0020 (events move into the customers' objects): the row keeps its events, marked
    // as still held (event_seq NULL), and earlier merges need no move.
    await db.prepare("INSERT INTO merges (merged_id, survivor_id, cause, merged_profile, created_at) VALUES ('cus_merged', 'cus_before', '{}', '{}', 77)").run();
    await applyD1Migrations(db, env.TEST_MIGRATIONS);
    expect(await db.prepare("SELECT event_seq, recent_events, chunk_count FROM customers WHERE id = 'cus_before'").first()).toEqual({ event_seq: null, recent_events: columns.recent_events, chunk_count: 1 });
    expect(await db.prepare("SELECT events_moved_at FROM merges WHERE merged_id = 'cus_merged'").first()).toEqual({ events_moved_at: 77 });
  });
});
