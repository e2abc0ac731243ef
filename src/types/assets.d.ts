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
