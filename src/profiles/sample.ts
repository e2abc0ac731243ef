/**
 * A bounded sample of stored profiles (the first customers by id of every shard), for dry runs
 * that show what a definition would do to existing customers without reading them all: at most
 * `limit` rows are read in all.
 */
import type { ShardMap } from "../db/shards";
import type { ExperimentRecords } from "./experiments";
import type { ProfileState } from "./apply";

export interface SampledProfile {
  id: string;
  consent: ProfileState["consent"];
  experiments: ExperimentRecords | null;
}

export async function sampleProfiles(map: ShardMap, limit: number): Promise<SampledProfile[]> {
  const each = Math.max(1, Math.ceil(limit / map.databases.length));
  const found = await Promise.all(
    map.databases.map(async (d1) => {
      const { results } = await d1.prepare("SELECT id, consent, experiments FROM customers ORDER BY id LIMIT ?").bind(each).all<{ id: string; consent: string; experiments: string | null }>();
      // A row copied ahead of a slot move is counted where its slot lives now.
      return results.filter((r) => map.of(r.id) === d1);
    }),
  );
  return found
    .flat()
    .slice(0, limit)
    .map((r) => ({ id: r.id, consent: JSON.parse(r.consent) as ProfileState["consent"], experiments: r.experiments ? (JSON.parse(r.experiments) as ExperimentRecords) : null }));
}
