/** The pthread worker script of tfjs-backend-wasm's threaded build, as the package embeds it (wasmThreads.ts). */
declare module '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js' {
  export const wasmWorkerContents: string;
}
