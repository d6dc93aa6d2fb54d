/** Command-line options shared by several commands, and how their parsed values are read. */
import { ENGINE_NAMES } from '../shared/protocol/engines';
import type { OptionSpec, OptionValue } from './args';

export const s = (v: OptionValue): string => v as string;
export const n = (v: OptionValue): number => v as number;
export const b = (v: OptionValue): boolean => v === true;
export const optN = (v: OptionValue): number | undefined => (v === undefined ? undefined : (v as number));
export const optS = (v: OptionValue): string | undefined => (v === undefined ? undefined : (v as string));
/** `finetune-epochs` → `finetuneEpochs`: an option's key in the request. */
export const optionKey = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export const ENGINE_OPTION: OptionSpec = { name: 'engine', kind: 'string', choices: ['auto', ...ENGINE_NAMES], default: 'auto', help: 'compute engine' };
export const THREADS_OPTION: OptionSpec = { name: 'threads', kind: 'int', min: 1, max: 256, metavar: 'N', help: 'CPU threads for the wasm engine (default: every physical core, at most 8)' };
export const seedOption = (def: number): OptionSpec => ({ name: 'seed', kind: 'int', default: def, help: 'random seed (same seed, same result)' });
