/**
 * Every ten minutes: the shop's engagement by local hour, summed over every database's
 * `send_time_hours`, written to KV for every isolate's send-time estimates
 * (profiles/population-curve.ts). 24 rows read per database; a KV write only when the sums moved.
 */
import { sql } from "drizzle-orm";
import { database } from "../db/client";
import { shards } from "../db/shards";
import { log } from "../kernel/log";
import { type LearnedCurve, POPULATION_CURVE_KEY } from "../profiles/population-curve";

export async function sumEngagementByHour(env: Env): Promise<number[]> {
  const rows = await shards(env).everywhere((d1) => database(d1).all<{ hour: number; weight: number }>(sql`SELECT hour, weight FROM send_time_hours`));
  const hours = new Array<number>(24).fill(0);
  for (const r of rows) if (r.hour >= 0 && r.hour < 24) hours[r.hour]! += r.weight;
  return hours;
}

/** Writes the learned curve to KV when it changed; returns it. */
export async function refreshPopulationCurve(env: Env, now = Date.now()): Promise<LearnedCurve> {
  const hours = await sumEngagementByHour(env);
  const learned: LearnedCurve = { hours, engagements: hours.reduce((a, b) => a + b, 0), at: now };
  const held = await env.PROFILES.get<LearnedCurve>(POPULATION_CURVE_KEY, "json");
  if (!held || held.hours.some((w, h) => w !== hours[h])) {
    await env.PROFILES.put(POPULATION_CURVE_KEY, JSON.stringify(learned));
    log("info", "engagement.population_curve", { engagements: learned.engagements });
  }
  return learned;
}
