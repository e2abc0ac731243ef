/**
 * Open-time images: a block's SVG rendered to PNG with resvg (Rust, compiled to WASM), because
 * most email clients do not show SVG. Workers have no system fonts, so the Inter typeface
 * (SIL Open Font License) is bundled: templates use `font-family="Inter"` or any sans-serif
 * family, and bold weights.
 */
import { initWasm, Resvg } from "@resvg/resvg-wasm";
import resvgWasm from "@resvg/resvg-wasm/index_bg.wasm";
import interBold from "./fonts/Inter_700Bold.ttf";
import interRegular from "./fonts/Inter_400Regular.ttf";

// One WASM instance per isolate. initWasm throws when called twice and flips its flag only
// after an await, so concurrent first requests share one promise; a failure lets a later one retry.
let ready: Promise<void> | undefined;
function resvgReady(): Promise<void> {
  ready ??= initWasm(resvgWasm).catch((err: unknown) => {
    ready = undefined;
    throw err;
  });
  return ready;
}

let fonts: Uint8Array[] | undefined;
function fontBuffers(): Uint8Array[] {
  // The bundler must import .ttf files as bytes (wrangler.toml [[rules]] type = "Data"); a URL
  // string instead would render images with no text at all, silently.
  if (!(interRegular instanceof ArrayBuffer) || !(interBold instanceof ArrayBuffer)) throw new Error("The bundled fonts were not imported as data; see [[rules]] in wrangler.toml");
  fonts ??= [new Uint8Array(interRegular), new Uint8Array(interBold)];
  return fonts;
}

/** The PNG of an SVG, `width` pixels wide (height follows the SVG's aspect ratio). */
export async function svgToPng(svg: string, width: number): Promise<Uint8Array> {
  await resvgReady();
  const resvg = new Resvg(svg, {
    fitTo: { mode: "width", value: width },
    font: { fontBuffers: fontBuffers(), defaultFontFamily: "Inter", sansSerifFamily: "Inter", serifFamily: "Inter", monospaceFamily: "Inter", loadSystemFonts: false },
  });
  // WASM objects live in the module's memory: freed explicitly, or the isolate leaks.
  try {
    const image = resvg.render();
    try {
      return image.asPng();
    } finally {
      image.free();
    }
  } finally {
    resvg.free();
  }
}

/** A 1×1 transparent PNG: the answer of last resort when even the fallback image fails. */
export const TRANSPARENT_PNG = Uint8Array.from(
  atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="),
  (ch) => ch.charCodeAt(0),
);
