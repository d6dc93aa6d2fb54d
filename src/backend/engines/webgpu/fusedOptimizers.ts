/**
 * RMSprop, Adam and SGD-with-momentum whose per-variable update is one GPU dispatch on webgpu, and one JavaScript
 * pass over the wasm heap on wasm (engines/wasmInPlace.ts). TF.js' stock
 * optimizers issue 6–11 elementwise kernels per variable per step (about 1,770 of a ResNet50 RMSprop step's
 * dispatches); these rewrite the variable and its slots in place with one shader (inPlaceProgram.ts).
 * They subclass the stock optimizers and keep their slots, names and order, so getWeights()/setWeights()
 * (checkpoints, resume) see exactly what the stock optimizer would, and the arithmetic is the stock one,
 * operation for operation, in float32. Anything the fused path cannot take (another backend, a shared buffer,
 * centered RMSprop) goes through the stock code.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensorMap, Tensor, Variable } from '@tensorflow/tfjs-core';

type Gradients = Parameters<tf.Optimizer['applyGradients']>[0];
type NamedTensor = Extract<Gradients, unknown[]>[number];
import type { EngineName } from '../../../shared/protocol/engines';
import type { WebGpuBackendInternals } from './backendInternals';
import { webgpuBackend } from './backendInternals';
import type { InPlaceProgram } from './inPlaceProgram';
import { canUpdateInPlace, runInPlace } from './inPlaceProgram';
import { assertNever } from '../../../shared/assertNever';
import { updateOnWasmHeap } from '../wasmInPlace';

export type OptimizerName = 'rmsprop' | 'adam' | 'sgd';

interface Slot {
  originalName: string;
  variable: Variable;
}

interface GradientList {
  names: string[];
  gradient(i: number): Tensor | undefined;
}

function gradientList(g: NamedTensorMap | NamedTensor[]): GradientList {
  if (Array.isArray(g)) return { names: g.map((x) => x.name), gradient: (i) => g[i]?.tensor };
  const names = Object.keys(g);
  return { names, gradient: (i) => g[names[i]!] };
}

function registeredVariable(name: string): Variable {
  const v = tf.engine().registeredVariables[name];
  if (!v) throw new Error(`optimizer: no variable named ${name}`);
  return v;
}

function slot(slots: Slot[], i: number, variableName: string, suffix: string, value: Variable): Variable {
  if (slots[i] == null) slots[i] = { originalName: `${variableName}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
  return slots[i]!.variable;
}

/** Whether the active engine has in-place updates (webgpu: one GPU program; wasm: one JavaScript pass). */
function inPlaceEngine(): boolean {
  return webgpuBackend() !== undefined || tf.getBackend() === 'wasm';
}

/** The webgpu backend, when every tensor can take the fused update there. */
function fusable(tensors: Tensor[], gradient: Tensor): WebGpuBackendInternals | undefined {
  const backend = webgpuBackend();
  if (!backend || gradient.dtype !== 'float32' || !tf.util.arraysEqual(gradient.shape, tensors[0]!.shape)) return undefined;
  return tensors.every((t) => canUpdateInPlace(backend, t)) ? backend : undefined;
}

const RMSPROP: InPlaceProgram = {
  key: 'lesionRmsProp',
  writable: ['value', 'ms', 'mom'],
  readable: ['grad'],
  params: ['decay', 'oneMinusDecay', 'momentum', 'lr', 'epsilon'],
  body: `
    let g = grad[i];
    let ms1 = ms[i] * u.decay + (g * g) * u.oneMinusDecay;
    let mom1 = mom[i] * u.momentum + (g * u.lr) / sqrt(ms1 + u.epsilon);
    ms[i] = ms1;
    mom[i] = mom1;
    value[i] = value[i] - mom1;`,
};

interface RmsPropState {
  learningRate: number;
  decay: number;
  momentum: number;
  epsilon: number;
  centered: boolean;
  accumulatedMeanSquares: Slot[];
  accumulatedMoments: Slot[];
}

export class FusedRMSPropOptimizer extends tf.RMSPropOptimizer {
  override applyGradients(variableGradients: NamedTensorMap | NamedTensor[]): void {
    const s = this as unknown as RmsPropState;
    if (s.centered || !inPlaceEngine()) {
      super.applyGradients(variableGradients);
      return;
    }
    const list = gradientList(variableGradients);
    list.names.forEach((name, i) => {
      const value = registeredVariable(name);
      const ms = slot(s.accumulatedMeanSquares, i, name, 'rms', value);
      const mom = slot(s.accumulatedMoments, i, name, 'momentum', value);
      const gradient = list.gradient(i);
      if (gradient == null) return;
      const backend = fusable([value, ms, mom], gradient);
      if (backend) {
        runInPlace(backend, RMSPROP, [value, ms, mom], [gradient], [s.decay, 1 - s.decay, s.momentum, s.learningRate, s.epsilon], value.size);
        return;
      }
      if (updateOnWasmHeap(value, [ms, mom], gradient, 'rmspropUpdate', [s.decay, 1 - s.decay, s.momentum, s.learningRate, s.epsilon])) return;
      tf.tidy(() => {
        const newMs = tf.add(tf.mul(ms, s.decay), tf.mul(tf.square(gradient), 1 - s.decay));
        const newMom = tf.add(tf.mul(mom, s.momentum), tf.div(tf.mul(gradient, s.learningRate), tf.sqrt(tf.add(newMs, s.epsilon))));
        ms.assign(newMs);
        mom.assign(newMom);
        value.assign(tf.sub(value, newMom));
      });
    });
    this.incrementIterations();
  }
}

const ADAM: InPlaceProgram = {
  key: 'lesionAdam',
  writable: ['value', 'm', 'v'],
  readable: ['grad'],
  params: ['beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'oneMinusAccBeta1', 'oneMinusAccBeta2', 'epsilon', 'negLr'],
  body: `
    let g = grad[i];
    let m1 = m[i] * u.beta1 + g * u.oneMinusBeta1;
    let v1 = v[i] * u.beta2 + (g * g) * u.oneMinusBeta2;
    m[i] = m1;
    v[i] = v1;
    let mHat = m1 / u.oneMinusAccBeta1;
    let vHat = v1 / u.oneMinusAccBeta2;
    value[i] = (mHat / (sqrt(vHat) + u.epsilon)) * u.negLr + value[i];`,
};

interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: Variable;
  accBeta2: Variable;
  accumulatedFirstMoment: Slot[];
  accumulatedSecondMoment: Slot[];
}

export class FusedAdamOptimizer extends tf.AdamOptimizer {
  /** beta^(t+1) in float32, kept on the host as the stock optimizer keeps it in its accBeta variables. */
  private hostAccBeta1: number;
  private hostAccBeta2: number;

  constructor(learningRate: number, beta1: number, beta2: number, epsilon?: number) {
    super(learningRate, beta1, beta2, epsilon);
    this.hostAccBeta1 = Math.fround(beta1);
    this.hostAccBeta2 = Math.fround(beta2);
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    const s = this as unknown as AdamState;
    if (!inPlaceEngine()) {
      super.applyGradients(variableGradients);
      this.hostAccBeta1 = Math.fround(this.hostAccBeta1 * Math.fround(s.beta1));
      this.hostAccBeta2 = Math.fround(this.hostAccBeta2 * Math.fround(s.beta2));
      return;
    }
    const list = gradientList(variableGradients);
    // As the stock optimizer: sub(1, accBeta) in float32.
    const oneMinusAcc1 = Math.fround(1 - this.hostAccBeta1);
    const oneMinusAcc2 = Math.fround(1 - this.hostAccBeta2);
    list.names.forEach((name, i) => {
      const value = registeredVariable(name);
      const m = slot(s.accumulatedFirstMoment, i, name, 'm', value);
      const v = slot(s.accumulatedSecondMoment, i, name, 'v', value);
      const gradient = list.gradient(i);
      if (gradient == null) return;
      const backend = fusable([value, m, v], gradient);
      if (backend) {
        runInPlace(backend, ADAM, [value, m, v], [gradient], [s.beta1, 1 - s.beta1, s.beta2, 1 - s.beta2, oneMinusAcc1, oneMinusAcc2, s.epsilon, -s.learningRate], value.size);
        return;
      }
      if (updateOnWasmHeap(value, [m, v], gradient, 'adamUpdate', [s.beta1, 1 - s.beta1, s.beta2, 1 - s.beta2, oneMinusAcc1, oneMinusAcc2, s.epsilon, -s.learningRate])) return;
      tf.tidy(() => {
        const newM = tf.add(tf.mul(m, s.beta1), tf.mul(gradient, 1 - s.beta1));
        const newV = tf.add(tf.mul(v, s.beta2), tf.mul(tf.square(gradient), 1 - s.beta2));
        const mHat = tf.div(newM, oneMinusAcc1);
        const vHat = tf.div(newV, oneMinusAcc2);
        m.assign(newM);
        v.assign(newV);
        value.assign(tf.add(tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), s.epsilon)), -s.learningRate), value));
      });
    });
    this.hostAccBeta1 = Math.fround(this.hostAccBeta1 * Math.fround(s.beta1));
    this.hostAccBeta2 = Math.fround(this.hostAccBeta2 * Math.fround(s.beta2));
    // The stock state stays current (host scalars: no GPU work).
    tf.tidy(() => {
      s.accBeta1.assign(tf.scalar(this.hostAccBeta1));
      s.accBeta2.assign(tf.scalar(this.hostAccBeta2));
    });
    this.incrementIterations();
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    await super.setWeights(weightValues);
    restoreAdamPowers(this);
    const s = this as unknown as AdamState;
    this.hostAccBeta1 = accumulatedPower(s.beta1, this.iterations);
    this.hostAccBeta2 = accumulatedPower(s.beta2, this.iterations);
  }
}

/**
 * beta^(t+1) after t steps, as Adam accumulates it: t float32 multiplications. TF.js' setWeights recomputes it
 * with pow(), which rounds differently after a few steps, so a run resumed from a checkpoint would drift from
 * the uninterrupted one in the last bits.
 */
export function accumulatedPower(beta: number, iterations: number): number {
  const b = Math.fround(beta);
  let acc = b;
  for (let t = 0; t < iterations; t++) acc = Math.fround(acc * b);
  return acc;
}

/** After setWeights: an Adam optimizer's accumulated powers exactly as the uninterrupted run has them (any other optimizer: nothing to do). */
export function restoreAdamPowers(optimizer: tf.Optimizer): void {
  // By class name: TF.js' optimizers answer `instanceof` for any optimizer class (Symbol.hasInstance).
  if (optimizer.getClassName() !== 'Adam') return;
  const s = optimizer as unknown as AdamState;
  const iterations = optimizer.iterations;
  tf.tidy(() => {
    s.accBeta1.assign(tf.scalar(accumulatedPower(s.beta1, iterations)));
    s.accBeta2.assign(tf.scalar(accumulatedPower(s.beta2, iterations)));
  });
}

const MOMENTUM: InPlaceProgram = {
  key: 'lesionMomentum',
  writable: ['value', 'acc'],
  readable: ['grad'],
  params: ['momentum', 'negLr', 'nesterov'],
  body: `
    let g = grad[i];
    let acc1 = u.momentum * acc[i] + g;
    acc[i] = acc1;
    if (u.nesterov != 0.0) {
      value[i] = u.negLr * (g + acc1 * u.momentum) + value[i];
    } else {
      value[i] = u.negLr * acc1 + value[i];
    }`,
};

interface MomentumState {
  learningRate: number;
  momentum: number;
  useNesterov: boolean;
  accumulations: Slot[];
}

export class FusedMomentumOptimizer extends tf.MomentumOptimizer {
  override applyGradients(variableGradients: Parameters<tf.MomentumOptimizer['applyGradients']>[0]): void {
    const s = this as unknown as MomentumState;
    if (!inPlaceEngine()) {
      super.applyGradients(variableGradients);
      return;
    }
    const list = gradientList(variableGradients);
    list.names.forEach((name, i) => {
      const value = registeredVariable(name);
      const acc = slot(s.accumulations, i, name, 'momentum', value);
      const gradient = list.gradient(i);
      if (gradient == null) return;
      const backend = fusable([value, acc], gradient);
      if (backend) {
        runInPlace(backend, MOMENTUM, [value, acc], [gradient], [s.momentum, -s.learningRate, s.useNesterov ? 1 : 0], value.size);
        return;
      }
      if (updateOnWasmHeap(value, [acc], gradient, 'momentumUpdate', [s.momentum, -s.learningRate, s.useNesterov ? 1 : 0])) return;
      tf.tidy(() => {
        const newAcc = tf.add(tf.mul(s.momentum, acc), gradient);
        const step = s.useNesterov ? tf.add(gradient, tf.mul(newAcc, s.momentum)) : newAcc;
        acc.assign(newAcc);
        value.assign(tf.add(tf.mul(-s.learningRate, step), value));
      });
    });
    this.incrementIterations();
  }
}

/**
 * The training optimizers with Keras' defaults (as src/backend/training/train.ts's makeOptimizer): fused on
 * webgpu and wasm, the stock TF.js ones on every other engine.
 */
export function createOptimizer(name: OptimizerName, lr: number, engine: EngineName): tf.Optimizer {
  const fused = engine === 'webgpu' || engine === 'wasm';
  switch (name) {
    case 'rmsprop':
      return fused ? new FusedRMSPropOptimizer(lr, 0.9, 0, 1e-7) : tf.train.rmsprop(lr, 0.9, 0, 1e-7);
    case 'adam':
      return fused ? new FusedAdamOptimizer(lr, 0.9, 0.999, 1e-7) : tf.train.adam(lr, 0.9, 0.999, 1e-7);
    case 'sgd':
      return fused ? new FusedMomentumOptimizer(lr, 0.9) : tf.train.momentum(lr, 0.9);
    default:
      return assertNever(name, 'optimizer');
  }
}
