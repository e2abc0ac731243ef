/**
 * Segment definitions in D1, versioned like triggers: saving writes a new version (the old ones
 * stay in `segment_versions`). The pipeline reads the enabled ones once per consumer batch, in
 * dependency order (a segment after the segments its rule names).
 */
import { shards } from "../db/shards";
import { and, desc, eq, isNull } from "drizzle-orm";
import { database } from "../db/client";
import { segmentMembers, segments, segmentVersions } from "../db/schema";
import { runBatch } from "../db/statements";
import { VersionMismatch } from "../db/versions";
import { SegmentDefinition, segmentsReferencedBy, type Segment } from "./definition";

export interface StoredSegment extends Segment {
  size: number;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
}

/** A rule that names a segment that does not exist, or a cycle of segments naming each other. */
export class SegmentReferenceError extends Error {
  override name = "SegmentReferenceError";
}

const toSegment = (row: typeof segments.$inferSelect): StoredSegment => ({
  id: row.id,
  version: row.version,
  definition: SegmentDefinition.parse(JSON.parse(row.definition)),
  size: row.size,
  membersSince: row.membersSince,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
  deletedAt: row.deletedAt,
});

/**
 * The segments in an order where each comes after the segments its rule names. Throws
 * SegmentReferenceError on a cycle or a reference to a segment not in the list.
 */
export function dependencyOrder<S extends Segment>(list: readonly S[]): S[] {
  const byId = new Map(list.map((s) => [s.id, s]));
  const ordered: S[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (s: S, path: string[]) => {
    if (state.get(s.id) === "done") return;
    if (state.get(s.id) === "visiting") throw new SegmentReferenceError(`Segments refer to each other in a cycle: ${[...path, s.id].join(" → ")}`);
    state.set(s.id, "visiting");
    for (const ref of segmentsReferencedBy(s.definition.rule)) {
      const dep = byId.get(ref);
      if (!dep) throw new SegmentReferenceError(`Segment ${s.id} refers to segment ${ref}, which does not exist`);
      visit(dep, [...path, s.id]);
    }
    state.set(s.id, "done");
    ordered.push(s);
  };
  for (const s of list) visit(s, []);
  return ordered;
}

export async function listSegments(d1: D1Database): Promise<StoredSegment[]> {
  const db = database(d1);
  return (await db.select().from(segments).where(isNull(segments.deletedAt)).orderBy(segments.id).all()).map(toSegment);
}

/** The segments the pipeline evaluates (enabled or not: a disabled one's members are dropped), in dependency order. */
export async function activeSegments(d1: D1Database): Promise<Segment[]> {
  return dependencyOrder((await listSegments(d1)).map(({ id, version, definition, membersSince }) => ({ id, version, definition, membersSince })));
}

export async function getSegment(d1: D1Database, id: string): Promise<StoredSegment | null> {
  const db = database(d1);
  const row = await db.select().from(segments).where(eq(segments.id, id)).get();
  return row && !row.deletedAt ? toSegment(row) : null;
}

/**
 * Saves a new version. Refuses (SegmentReferenceError) a rule naming a missing segment or making
 * a cycle, and (VersionMismatch) a save over someone else's when `expectedVersion` is given.
 * Saving the same definition again creates no version.
 */
export async function saveSegment(d1: D1Database, id: string, definition: SegmentDefinition, expectedVersion?: number, now = Date.now()): Promise<{ segment: StoredSegment; created: boolean; changed: boolean }> {
  const db = database(d1);
  const existing = await db.select().from(segments).where(eq(segments.id, id)).get();
  const current = existing && !existing.deletedAt ? existing : undefined;
  if (expectedVersion !== undefined && (existing?.version ?? 0) !== expectedVersion) throw new VersionMismatch(existing?.version ?? 0);
  const others = (await listSegments(d1)).filter((s) => s.id !== id);
  dependencyOrder([...others, { id, version: 0, definition, membersSince: now }]);
  const json = JSON.stringify(definition);
  if (current && current.definition === json) return { segment: toSegment(current), created: false, changed: false };
  const version = (existing?.version ?? 0) + 1;
  // A deleted segment saved again starts empty (its members were dropped with it), and so does
  // a disabled one enabled again.
  const restarts = !current || (!current.enabled && definition.enabled);
  const membersSince = restarts ? now : current.membersSince;
  const row = { id, version, definition: json, enabled: definition.enabled, size: restarts ? 0 : current.size, membersSince, createdAt: current?.createdAt ?? now, updatedAt: now, deletedAt: null };
  await runBatch(d1, [
    db.insert(segmentVersions).values({ segmentId: id, version, definition: json, createdAt: now }),
    db.insert(segments).values(row).onConflictDoUpdate({ target: segments.id, set: { version, definition: json, enabled: definition.enabled, size: row.size, membersSince, createdAt: row.createdAt, updatedAt: now, deletedAt: null } }),
  ]);
  return { segment: toSegment(row), created: !current, changed: true };
}

export async function listSegmentVersions(d1: D1Database, id: string) {
  const db = database(d1);
  const rows = await db.select().from(segmentVersions).where(eq(segmentVersions.segmentId, id)).orderBy(desc(segmentVersions.version)).all();
  return rows.map((r) => ({ version: r.version, definition: SegmentDefinition.parse(JSON.parse(r.definition)), createdAt: r.createdAt }));
}

export async function segmentVersion(d1: D1Database, id: string, version: number): Promise<SegmentDefinition | null> {
  const db = database(d1);
  const row = await db.select().from(segmentVersions).where(and(eq(segmentVersions.segmentId, id), eq(segmentVersions.version, version))).get();
  return row ? SegmentDefinition.parse(JSON.parse(row.definition)) : null;
}

/** The segments whose rules name this one. */
export async function dependentsOf(d1: D1Database, id: string): Promise<string[]> {
  return (await listSegments(d1)).filter((s) => segmentsReferencedBy(s.definition.rule).includes(id)).map((s) => s.id);
}

/**
 * Deletes a segment: its history of versions and stats stays, its members go (profiles forget
 * it at their next evaluation, without a `Segment Exited`).
 */
export async function deleteSegment(env: Env, id: string, now = Date.now()): Promise<boolean> {
  const res = await database(env.DB).update(segments).set({ deletedAt: now, enabled: false, size: 0, updatedAt: now }).where(and(eq(segments.id, id), isNull(segments.deletedAt))).run();
  await forgetMembers(env, id);
  return (res.meta.changes ?? 0) > 0;
}

/** A disabled segment has no members. */
export async function dropMembers(env: Env, id: string): Promise<void> {
  await database(env.DB).update(segments).set({ size: 0 }).where(eq(segments.id, id)).run();
  await forgetMembers(env, id);
}

/** The segment's member rows, in every shard. */
async function forgetMembers(env: Env, id: string): Promise<void> {
  await shards(env).everywhere(async (d1) => {
    await database(d1).delete(segmentMembers).where(eq(segmentMembers.segmentId, id)).run();
    return [];
  });
}
