/**
 * A content block as `PUT /v1/blocks/{id}` accepts it: Liquid templates per format, the
 * products it shows, and the fallback served whenever anything goes wrong.
 */
import { z } from "zod";

export { BlockId } from "../model/block-id";

/** Where a block's `products` come from; `recommended` = recently viewed, then popular. */
export const PRODUCT_SOURCES = ["recommended", "recently_viewed", "cart", "purchased", "popular"] as const;
export type ProductSource = (typeof PRODUCT_SOURCES)[number];

const template = (max: number) => z.string().max(max, `must be at most ${max / 1024} KB`);

export const BlockDefinition = z
  .object({
    description: z.string().max(500).optional(),
    /** HTML Liquid: what send-time calls (Braze, Customer.io, Klaviyo) and previews get. */
    html: template(100_000).min(1),
    /** Stylesheet inlined into the rendered HTML's `style` attributes (email clients drop `<style>`). */
    css: template(50_000).optional(),
    /** Liquid whose output is JSON (AMP `amp-list`, ESPs that template JSON). Default: `{"items": products}`. */
    json: template(50_000).optional(),
    /** An open-time image: SVG Liquid, served as SVG or rendered to PNG. */
    image: z
      .object({
        width: z.number().int().min(1).max(2000),
        height: z.number().int().min(1).max(2000),
        svg: template(100_000).min(1),
        /** Static SVG shown when the customer is unknown, the link is bad, or a proxy prefetches. */
        fallbackSvg: template(100_000).optional(),
      })
      .optional(),
    /** Static HTML served instead of the block whenever rendering is impossible. */
    fallback: template(50_000).default(""),
    products: z
      .object({
        source: z.enum(PRODUCT_SOURCES).default("recommended"),
        limit: z.number().int().min(1).max(24).default(4),
        /** Leave out products the catalog knows are out of stock. */
        inStockOnly: z.boolean().default(true),
      })
      .default({ source: "recommended", limit: 4, inStockOnly: true }),
    /** Where a click-time link goes when no product is left to show. */
    links: z.object({ fallbackUrl: z.url({ protocol: /^https?$/ }) }).optional(),
  })
  .strict();
export type BlockDefinition = z.infer<typeof BlockDefinition>;
export type BlockInput = z.input<typeof BlockDefinition>;

/** The formats a block is served in. */
export const FORMATS = ["html", "json", "svg", "png"] as const;
export type Format = (typeof FORMATS)[number];
