/**
 * The published blocks, as the edge reads them: one KV value (`content:manifest`) holding every
 * published block at its published version, rewritten from D1 on each publish, rollback or
 * delete. An isolate keeps the manifest and the engines built from it for 30 seconds, so a
 * render costs no KV or D1 read for its template, and parses it once per revision.
 *
 * A publish is served at once by the isolate that made it, and within about a minute elsewhere
 * (this cache plus KV's edge cache).
 */
import type { Liquid } from "liquidjs";
import { log } from "../kernel/log";
import type { BlockDefinition } from "./definition";
import { compileBlock } from "./css";
import { enginesFor } from "./engine";
import { publishedBlocks } from "./store";
import { listExperiments } from "../experiments/store";
import { servedByBlock, type ServedExperiment } from "../experiments/serving";
import { banditWeightsKey, type PublishedWeights } from "../experiments/tally";

export const MANIFEST_KEY = "content:manifest";
const ISOLATE_TTL_MS = 30_000;
const KV_CACHE_TTL_S = 60;

export interface Manifest {
  /** Changes on every write: engines are keyed by it. */
  revision: string;
  /** Definitions as served: CSS already inlined (css.ts). */
  blocks: Record<string, { version: number; definition: BlockDefinition }>;
  /**
   * Experiments that change what a block serves, by block id: a render decides its variant with
   * no read beyond the manifest's (absent in manifests written before experiments existed).
   */
  experiments?: Record<string, ServedExperiment>;
}

export interface LoadedManifest extends Manifest {
  /** HTML and SVG templates, escaping output. */
  markup: Liquid;
  /** JSON templates. */
  json: Liquid;
}

let held: { manifest: LoadedManifest; until: number } | null = null;

function load(manifest: Manifest): LoadedManifest {
  return { ...manifest, ...enginesFor(Object.fromEntries(Object.entries(manifest.blocks).map(([id, b]) => [id, b.definition]))) };
}

function hold(manifest: Manifest, now: number): LoadedManifest {
  // The same revision keeps its engines; its experiments (a bandit's split) may have moved.
  const loaded = held?.manifest.revision === manifest.revision ? { ...held.manifest, experiments: manifest.experiments } : load(manifest);
  held = { manifest: loaded, until: now + ISOLATE_TTL_MS };
  return loaded;
}

async function buildFromD1(env: Env): Promise<Manifest> {
  const [published, experiments] = await Promise.all([publishedBlocks(env.DB), listExperiments(env.DB)]);
  // CSS is inlined here, once per publish: renders never pay for it.
  return {
    revision: `${Date.now()}-${crypto.randomUUID().slice(0, 8)}`,
    blocks: Object.fromEntries(published.map((b) => [b.id, { version: b.version, definition: compileBlock(b.definition) }])),
    experiments: servedByBlock(experiments.map((e) => ({ id: e.id, version: e.version, definition: e.definition }))),
  };
}

/** Rewrites the manifest from D1 (after a block's publish, rollback or delete, or an experiment's save) and serves it here at once. */
export async function publishManifest(env: Env, now = Date.now()): Promise<Manifest> {
  const manifest = await buildFromD1(env);
  await env.PROFILES.put(MANIFEST_KEY, JSON.stringify(manifest));
  hold(await withBanditSplits(env, manifest), now);
  return manifest;
}

/** The published blocks, from this isolate's copy, KV, or (never published yet) D1. */
export async function currentManifest(env: Env, now = Date.now()): Promise<LoadedManifest> {
  if (held && held.until > now) return held.manifest;
  const stored = await env.PROFILES.get<Manifest>(MANIFEST_KEY, { type: "json", cacheTtl: KV_CACHE_TTL_S });
  if (stored) return hold(await withBanditSplits(env, stored), now);
  // No manifest in KV: a fresh deployment, or KV lost it. D1 has the truth; nothing is written
  // here so that a burst of reads cannot hit KV's one write per second per key.
  log("warn", "content.manifest_missing", {});
  return hold(await withBanditSplits(env, await buildFromD1(env)), now);
}

/**
 * The manifest with each running bandit's current split (its tally writes it to KV): read when the
 * isolate refreshes its manifest, so renders still read nothing of their own.
 */
async function withBanditSplits(env: Env, manifest: Manifest): Promise<Manifest> {
  const bandits = Object.entries(manifest.experiments ?? {}).filter(([, e]) => e.definition.bandit && e.definition.status === "running" && e.definition.winner === undefined);
  if (bandits.length === 0) return manifest;
  const splits = await Promise.all(bandits.map(([, e]) => env.PROFILES.get<PublishedWeights>(banditWeightsKey(e.id), { type: "json", cacheTtl: KV_CACHE_TTL_S })));
  const experiments = { ...manifest.experiments };
  bandits.forEach(([block, e], i) => {
    const split = splits[i];
    if (split) experiments[block] = { ...e, weights: split.weights };
  });
  return { ...manifest, experiments };
}
