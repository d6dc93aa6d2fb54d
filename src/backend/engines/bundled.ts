/**
 * The packaging build (scripts/build.mjs --production) compiles TF.js and its backends into the backend
 * bundle, so an installed .vsix has no node_modules entry to resolve them by; the build records their
 * versions here instead. In a development build (and under tsx) nothing is bundled.
 */
import path from 'node:path';

declare const __LESION_LAB_BUNDLED__: Record<string, string> | undefined;

const BUNDLED: Readonly<Record<string, string>> = typeof __LESION_LAB_BUNDLED__ === 'object' ? __LESION_LAB_BUNDLED__ : {};

/** The version of a package compiled into this bundle, or undefined when it is loaded from node_modules. */
export function bundledPackageVersion(name: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(BUNDLED, name) ? BUNDLED[name] : undefined;
}

/**
 * Where the wasm engine's .wasm files are when tfjs-backend-wasm is bundled: copied beside the bundle
 * (dist/backend/wasm/), since the package's own dist folder is not shipped.
 */
export function bundledWasmDir(): string | undefined {
  return bundledPackageVersion('@tensorflow/tfjs-backend-wasm') ? path.join(__dirname, 'wasm') : undefined;
}
