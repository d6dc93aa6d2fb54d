// Replaced at bundle time by esbuild's `define`; the fallback serves unbundled runs (tests via tsx).
declare const __LESION_LAB_VERSION__: string | undefined;
export const BACKEND_VERSION: string = typeof __LESION_LAB_VERSION__ === 'string' ? __LESION_LAB_VERSION__ : '0.0.0-dev';
