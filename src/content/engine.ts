/**
 * The Liquid engines that render blocks. One engine holds every published template of a
 * manifest revision in memory (`{% render "card" %}` finds the block `card`) and caches what it
 * parses, so a template is parsed once per revision per isolate, never per request.
 *
 * Template names: a block's HTML is `<id>`, its image `<id>.svg`, its JSON `<id>.json`.
 */
import { Liquid } from "liquidjs";
import type { FieldError } from "../kernel/errors";
import { renderedBlocks } from "./block-files";
import type { BlockDefinition } from "./definition";
import { FILTERS } from "./filters";

/** Bounds one render: a template looping over a huge list renders its fallback instead. */
const LIMITS = { parseLimit: 1_000_000, renderLimit: 250, memoryLimit: 5_000_000 };

export const templateName = {
  html: (id: string) => id,
  svg: (id: string) => `${id}.svg`,
  json: (id: string) => `${id}.json`,
};

/**
 * HTML and SVG outputs escape every `{{ }}` (`| raw` opts out), so a trait cannot inject markup;
 * JSON outputs do not (templates build JSON with `| json`).
 */
export function createEngine(templates: Record<string, string>, output: "markup" | "json"): Liquid {
  const engine = new Liquid({
    templates,
    cache: true,
    strictFilters: true,
    ownPropertyOnly: true,
    outputEscape: output === "markup" ? "escape" : undefined,
    ...LIMITS,
  });
  for (const [name, filter] of Object.entries(FILTERS)) engine.registerFilter(name, filter);
  return engine;
}

/** The templates of a block, by engine and name. */
export function templatesOf(id: string, d: BlockDefinition): { markup: Record<string, string>; json: Record<string, string> } {
  const markup: Record<string, string> = { [templateName.html(id)]: d.html };
  if (d.image) markup[templateName.svg(id)] = d.image.svg;
  return { markup, json: d.json ? { [templateName.json(id)]: d.json } : {} };
}

/** The two engines holding every template of these blocks (by id). */
export function enginesFor(blocks: Record<string, BlockDefinition>): { markup: Liquid; json: Liquid } {
  const markup: Record<string, string> = {};
  const json: Record<string, string> = {};
  for (const [id, definition] of Object.entries(blocks)) {
    const t = templatesOf(id, definition);
    Object.assign(markup, t.markup);
    Object.assign(json, t.json);
  }
  return { markup: createEngine(markup, "markup"), json: createEngine(json, "json") };
}

const checker = createEngine({}, "markup");

/** A Liquid error's position, as liquidjs reports it: `…, line:3, col:7`. */
function positionOf(err: unknown): { line: number; column: number } | null {
  const token = (err as { token?: { getPosition?: () => [number, number] } }).token;
  const pos = token?.getPosition?.();
  return pos ? { line: pos[0], column: pos[1] } : null;
}

/**
 * Parses each template of a definition; returns one error per template that does not parse,
 * with the line and column (unknown filters count: a typo must not reach an email).
 */
export function syntaxErrors(d: BlockDefinition): FieldError[] {
  const fields: [string, string | undefined][] = [
    ["html", d.html],
    ["json", d.json],
    ["image.svg", d.image?.svg],
  ];
  const errors: FieldError[] = [];
  for (const [field, source] of fields) {
    if (source === undefined) continue;
    try {
      checker.parse(source);
    } catch (err) {
      const pos = positionOf(err);
      const message = err instanceof Error ? err.message.replace(/, line:\d+, col:\d+$/, "") : String(err);
      errors.push({ field, message: pos ? `${message} (line ${pos.line}, column ${pos.column})` : message, ...(pos ?? {}) });
    }
  }
  return errors;
}

/** The blocks a definition renders as partials (`{% render "x" %}`, `{% include "x" %}`). */
export function partialsOf(d: BlockDefinition): string[] {
  return renderedBlocks({ html: d.html, json: d.json ?? "", svg: d.image?.svg ?? "" }).sort();
}
