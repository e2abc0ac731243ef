// Modules the bundler imports as they are: WASM as a compiled module, fonts as bytes, the
// storefront tag's source as text (wrangler.toml [[rules]]).
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
declare module "*.ttf" {
  const data: ArrayBuffer;
  export default data;
}
declare module "*.js.txt" {
  const text: string;
  export default text;
}
// The console's charting library (wrangler.toml [[rules]]; vitest.config.ts reads them as `?raw`).
declare module "uplot/dist/uPlot.iife.min.js" {
  const text: string;
  export default text;
}
declare module "uplot/dist/uPlot.min.css" {
  const text: string;
  export default text;
}
