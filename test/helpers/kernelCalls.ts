import * as tf from '@tensorflow/tfjs-core';
import type { EngineName } from '../../src/shared/protocol/engines';
import { countDispatches } from '../../src/backend/engines/webgpu/dispatchCounter';

/** Counts what `engine` runs: GPU dispatches on webgpu, kernel calls elsewhere. */
export function countWork(engine: EngineName): { stop(): number } {
  if (engine === 'webgpu') return countDispatches();
  const core = tf.engine() as unknown as { runKernelFunc(p: unknown): unknown };
  const original = core.runKernelFunc;
  let n = 0;
  core.runKernelFunc = function (this: unknown, p: unknown) {
    n++;
    return original.call(this, p);
  };
  return {
    stop() {
      core.runKernelFunc = original;
      return n;
    },
  };
}
