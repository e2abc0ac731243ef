/**
 * CSS inlining for email HTML (most email clients ignore or strip `<style>`), with juice's
 * browser build, which runs on Workers. It runs on templates, not on rendered output: once per
 * published version (manifest.ts), so a render pays nothing for it. Liquid tags and outputs are
 * protected from the HTML parser, so they come out byte for byte.
 *
 * Kept in a `<style>` element: `@media` rules and pseudo-classes (`:hover`), which cannot be
 * inline; clients that support them use them. A class written by Liquid
 * (`class="{{ x }}"`) cannot be matched at publish time: templates keep their classes static.
 */
import juice from "juice/client";
import type { BlockDefinition } from "./definition";

// Global to juice: set once. `{{ … }}` is protected by default.
juice.codeBlocks.LIQUID_TAG = { start: "{%", end: "%}" };

/** `html` with the rules of `css` (and of its own `<style>` elements) in `style` attributes. */
export function inlineCss(html: string, css: string | undefined): string {
  if (!css && !html.includes("<style")) return html;
  return juice(html, {
    extraCss: css ?? "",
    preserveImportant: true,
    preserveMediaQueries: true,
    removeStyleTags: true,
    applyWidthAttributes: true,
    applyHeightAttributes: true,
    applyAttributesTableElements: true,
  });
}

/** A definition as served: its CSS inlined into the HTML and the fallback, once per version. */
export function compileBlock(d: BlockDefinition): BlockDefinition {
  if (!d.css && !d.html.includes("<style") && !d.fallback.includes("<style")) return d;
  const { css, ...rest } = d;
  return { ...rest, html: inlineCss(d.html, css), fallback: d.fallback ? inlineCss(d.fallback, css) : "" };
}
