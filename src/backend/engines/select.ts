import type { EngineChoice, EngineInfo, EngineName, EngineSelection } from '../../shared/protocol/engines';
import { UserError } from '../errors';

/** `auto` prefers a real GPU, then native CPU, then SIMD WebAssembly, then plain JS. */
export const AUTO_ORDER: readonly EngineName[] = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'];

/** True for software Vulkan/WebGPU adapters, which are far slower than the CPU engines. */
export function isSoftwareAdapter(device: string | undefined): boolean {
  return device !== undefined && /llvmpipe|lavapipe|swiftshader|software|fallback/i.test(device);
}

export function selectEngine(engines: readonly EngineInfo[], choice: EngineChoice): EngineSelection {
  if (choice !== 'auto') {
    const info = engines.find((e) => e.name === choice);
    if (!info || !info.available) {
      throw new UserError(
        `The ${choice} engine is not available here: ${info?.reason ?? 'unknown engine'}. Choose another with --engine (or the lesionLab.engine setting), or use auto.`,
      );
    }
    return { engine: info.name, reason: `chosen explicitly (${info.reason})`, device: info.device };
  }
  const skipped: string[] = [];
  for (const name of AUTO_ORDER) {
    const info = engines.find((e) => e.name === name);
    if (!info?.available) {
      if (info && info.gpu) skipped.push(`${name}: ${shorten(info.reason)}`);
      continue;
    }
    if (name === 'webgpu' && isSoftwareAdapter(info.device)) {
      skipped.push(`webgpu: only a software adapter (${info.device})`);
      continue;
    }
    const why = skipped.length ? `no usable GPU engine (${skipped.join('; ')})` : 'first available in the preferred order';
    return { engine: name, reason: info.gpu ? `GPU found: ${info.device ?? name}` : `${why}; ${name} is the fastest CPU engine here`, device: info.device };
  }
  // cpu is always available, so this is reached only with a malformed list.
  throw new UserError('No compute engine is available. Reinstall Lesion Lab; the cpu engine should always work.');
}

function shorten(reason: string): string {
  const cut = reason.indexOf(';');
  return cut > 0 ? reason.slice(0, cut) : reason;
}
