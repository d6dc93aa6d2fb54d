/**
 * Counts GPU compute dispatches: every `dispatchWorkgroups` any code records into any compute pass (TF.js'
 * programs and the project's direct ones alike), so the figure is what the GPU queue actually receives.
 * CPU-forwarded kernels (TF.js runs tiny ops on the CPU) are not dispatches and are not counted.
 */
export interface DispatchCount {
  readonly dispatches: number;
  /** Stops counting; returns the total. Idempotent. */
  stop(): number;
}

interface PassPrototype {
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
}

let active = 0;
let total = 0;
let original: PassPrototype['dispatchWorkgroups'] | undefined;

function passPrototype(): PassPrototype {
  const ctor = (globalThis as { GPUComputePassEncoder?: { prototype: PassPrototype } }).GPUComputePassEncoder;
  if (!ctor) throw new Error('countDispatches: no GPUComputePassEncoder global; initialise the webgpu engine first');
  return ctor.prototype;
}

/** Starts counting dispatches until `stop()`; several counts may overlap. */
export function countDispatches(): DispatchCount {
  const proto = passPrototype();
  if (active++ === 0) {
    original = proto.dispatchWorkgroups;
    const inner = original;
    proto.dispatchWorkgroups = function (this: PassPrototype, x: number, y?: number, z?: number) {
      total++;
      return inner.call(this, x, y, z);
    };
  }
  const start = total;
  let end: number | undefined;
  return {
    get dispatches() {
      return (end ?? total) - start;
    },
    stop() {
      if (end === undefined) {
        end = total;
        if (--active === 0 && original) {
          proto.dispatchWorkgroups = original;
          original = undefined;
        }
      }
      return end - start;
    },
  };
}
