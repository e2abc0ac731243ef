/**
 * A block kept as files (one folder per block; see src/content/blocks/README.md) → the
 * definition `PUT /v1/blocks/{id}` takes. Pure and import-free, so the Node loader
 * (scripts/load-blocks.mjs) and the tests share it.
 */
export type BlockFiles = Record<string, string>;

/** The blocks a template renders: publish those first. */
export function renderedBlocks(files: BlockFiles): string[] {
  const names = new Set<string>();
  for (const source of Object.values(files)) for (const m of source.matchAll(/\{%-?\s*(?:render|include)\s+["']([^"'.]+)/g)) names.add(m[1]!);
  return [...names];
}

export function blockFromFiles(files: BlockFiles): Record<string, unknown> {
  const meta = files["block.json"] ? (JSON.parse(files["block.json"]) as Record<string, unknown>) : {};
  const html = files["html.liquid"];
  if (html === undefined) throw new Error("a block folder needs an html.liquid");
  const definition: Record<string, unknown> = { ...meta, html };
  if (files["style.css"] !== undefined) definition.css = files["style.css"];
  if (files["fallback.html"] !== undefined) definition.fallback = files["fallback.html"];
  if (files["json.liquid"] !== undefined) definition.json = files["json.liquid"];
  if (files["image.svg.liquid"] !== undefined) {
    const image = (meta.image ?? {}) as Record<string, unknown>;
    definition.image = { ...image, svg: files["image.svg.liquid"], ...(files["fallback.svg"] !== undefined ? { fallbackSvg: files["fallback.svg"] } : {}) };
  }
  return definition;
}

/** Block ids in an order where every block comes after the blocks it renders. */
export function publishOrder(blocks: Record<string, BlockFiles>): string[] {
  const order: string[] = [];
  const visit = (id: string, path: string[]) => {
    if (order.includes(id) || !blocks[id]) return;
    if (path.includes(id)) throw new Error(`blocks render each other in a cycle: ${[...path, id].join(" → ")}`);
    for (const dep of renderedBlocks(blocks[id])) visit(dep, [...path, id]);
    order.push(id);
  };
  for (const id of Object.keys(blocks).sort()) visit(id, []);
  return order;
}
