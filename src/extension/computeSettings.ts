/** Where and how the backend computes, from the user's settings: read at each use, so a change applies to the next job. */
import * as vscode from 'vscode';
import type { EngineChoice } from '../shared/protocol/engines';
import type { Precision } from '../shared/protocol/jobs';

/** lesionLab.engine */
export function engineSetting(): EngineChoice {
  return vscode.workspace.getConfiguration('lesionLab').get<EngineChoice>('engine', 'auto');
}

/** lesionLab.precision */
export function precisionSetting(): Precision {
  return vscode.workspace.getConfiguration('lesionLab').get<Precision>('precision', 'float32');
}

/** lesionLab.threads: the wasm engine's --threads; undefined (0) lets the backend use every physical core. */
export function threadsSetting(): number | undefined {
  const n = vscode.workspace.getConfiguration('lesionLab').get<number>('threads', 0);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
