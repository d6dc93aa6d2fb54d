/** Compute engines: what the backend can train on, and which one it picked (backend → host, and config.json). */
import { bool, literal, obj, optional, str } from '../validate';

export const ENGINE_NAMES = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];
export type EngineChoice = 'auto' | EngineName;

export interface EngineInfo {
  name: EngineName;
  available: boolean;
  /** Why it is available (what was found) or why not (what is missing, and what to do). */
  reason: string;
  /** The device it would run on, e.g. a GPU adapter name or "CPU (2 cores)". */
  device?: string;
  /** Runs on a GPU when available. */
  gpu: boolean;
}

export interface EngineSelection {
  engine: EngineName;
  reason: string;
  device?: string;
}

export const engineName = literal(...ENGINE_NAMES);
export const engineInfo = obj({ name: engineName, available: bool, reason: str, device: optional(str), gpu: bool });
export const engineSelection = obj({ engine: engineName, reason: str, device: optional(str) });
