/**
 * A block rendered for a preview: any version (drafts too) for any customer and format, with
 * why a fallback was served. The admin API (`/v1/blocks/{id}/preview`) and the console use it.
 */
import type { Format } from "./definition";
import { currentManifest } from "./manifest";
import { draftTarget, renderBlock, servesFormat } from "./render";
import { getBlock, getBlockVersion } from "./store";

export type Preview = { found: false; detail: string } | { found: true; version: number; body: string | Uint8Array; contentType: string; fallback: string | null };

export async function previewBlock(env: Env, id: string, q: { version?: number; format: Format; customer: string; origin: string }): Promise<Preview> {
  const block = await getBlock(env.DB, id);
  if (!block || block.deletedAt) return { found: false, detail: `No block ${id}` };
  const version = q.version ?? block.version;
  const definition = await getBlockVersion(env.DB, id, version);
  if (!definition) return { found: false, detail: `Block ${id} has no version ${version}` };
  if (!servesFormat(definition, q.format)) return { found: false, detail: `Block ${id} version ${version} has no image` };
  const target = draftTarget(await currentManifest(env), id, version, definition);
  const rendered = await renderBlock(env, target, q.format, { customerRef: q.customer, origin: q.origin });
  return { found: true, version, body: rendered.body, contentType: rendered.contentType, fallback: rendered.fallback };
}
