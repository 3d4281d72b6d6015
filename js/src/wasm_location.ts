// Where the wasm core is: beside this module. Written as `new URL('./file', import.meta.url)`
// so that bundlers (Vite, webpack 5, Parcel, Rollup with its URL plugin) find the file, emit it
// as an asset and rewrite the URL. js/build.mjs replaces this file in the CommonJS build
// (dist/cjs), which has no import.meta.
export function wasmLocation(): URL {
  return new URL('./globemeet_core.wasm', import.meta.url);
}
