import assert from 'node:assert/strict';
import { SweepSpecError, expandSweep, parseSweepSpec } from '../../../src/backend/sweep/sweepSpec';

const argValue = (args: string[], flag: string): string | undefined => {
  const i = args.indexOf(`--${flag}`);
  return i < 0 ? undefined : args[i + 1];
};

describe('sweep spec expansion', () => {
  it('2 folds × 2 learning rates: 4 runs, configuration-major then fold, each with its fold and the shared options', () => {
    const tasks = expandSweep(parseSweepSpec({ prepared: 'p', train: { model: 'mobilenetv2', epochs: 1, classWeights: true }, grid: { lr: [0.001, 0.0003] }, folds: 2 }));
    assert.equal(tasks.length, 4);
    assert.deepEqual(
      tasks.map((t) => [argValue(t.args, 'lr'), argValue(t.args, 'fold')]),
      [['0.001', '1'], ['0.001', '2'], ['0.0003', '1'], ['0.0003', '2']],
    );
    for (const t of tasks) {
      assert.equal(argValue(t.args, 'model'), 'mobilenetv2');
      assert.equal(argValue(t.args, 'epochs'), '1');
      assert.equal(argValue(t.args, 'folds'), '2');
      assert.equal(argValue(t.args, 'fold-seed'), '101');
      assert.ok(t.args.includes('--class-weights'));
      assert.ok(!t.args.includes('--run') && !t.args.includes('--prepared'));
    }
    assert.deepEqual(tasks.map((t) => t.index), [0, 1, 2, 3]);
    assert.deepEqual(tasks.map((t) => t.name), ['000-lr-0.001_fold-1', '001-lr-0.001_fold-2', '002-lr-0.0003_fold-1', '003-lr-0.0003_fold-2']);
    assert.deepEqual(tasks[3]!.params, { lr: 0.0003, fold: 2 });
  });

  it('grids multiply in the spec’s order (the last option fastest), and seeds repeat every configuration', () => {
    const tasks = expandSweep(parseSweepSpec({ prepared: 'p', grid: { batch: [16, 32], optimizer: ['adam', 'sgd', 'rmsprop'] }, seeds: [1, 2] }));
    assert.equal(tasks.length, 12);
    assert.deepEqual(tasks.slice(0, 4).map((t) => t.params), [
      { batch: 16, optimizer: 'adam', seed: 1 },
      { batch: 16, optimizer: 'adam', seed: 2 },
      { batch: 16, optimizer: 'sgd', seed: 1 },
      { batch: 16, optimizer: 'sgd', seed: 2 },
    ]);
    assert.equal(new Set(tasks.map((t) => t.name)).size, 12);
    for (const t of tasks) assert.ok(/^[A-Za-z0-9._+-]+$/.test(t.name), t.name);
  });

  it('random search is seeded: the same spec draws the same runs, another seed others; draws stay in their domains', () => {
    const spec = { prepared: 'p', random: { trials: 20, seed: 7, space: { lr: { log: [1e-5, 1e-2] }, epochs: { int: [2, 4] }, alpha: { uniform: [0.35, 1] }, optimizer: ['adam', 'sgd'] } } };
    const a = expandSweep(parseSweepSpec(spec));
    assert.deepEqual(expandSweep(parseSweepSpec(spec)), a);
    const b = expandSweep(parseSweepSpec({ ...spec, random: { ...spec.random, seed: 8 } }));
    assert.notDeepEqual(b.map((t) => t.params), a.map((t) => t.params));
    assert.equal(a.length, 20);
    for (const t of a) {
      const p = t.params as { lr: number; epochs: number; alpha: number; optimizer: string };
      assert.ok(p.lr >= 1e-5 && p.lr <= 1e-2, `lr ${p.lr}`);
      assert.ok([2, 3, 4].includes(p.epochs), `epochs ${p.epochs}`);
      assert.ok(p.alpha >= 0.35 && p.alpha <= 1, `alpha ${p.alpha}`);
      assert.ok(['adam', 'sgd'].includes(p.optimizer));
      assert.equal(Number(p.lr.toPrecision(3)), p.lr);
    }
    // Log-uniform: about as many draws below 1e-3.5 as above it.
    const low = a.filter((t) => (t.params.lr as number) < 10 ** -3.5).length;
    assert.ok(low >= 4 && low <= 16, `${low} of 20 below the log midpoint`);
  });

  it('a grid and random draws combine: each draw with each grid point', () => {
    const tasks = expandSweep(parseSweepSpec({ prepared: 'p', grid: { batch: [16, 32] }, random: { trials: 3, space: { lr: { log: [1e-4, 1e-2] } } } }));
    assert.equal(tasks.length, 6);
    assert.deepEqual(tasks.map((t) => t.params.batch), [16, 16, 16, 32, 32, 32]);
    assert.deepEqual(tasks.slice(0, 3).map((t) => t.params.lr), tasks.slice(3).map((t) => t.params.lr));
  });

  it('no grid, no draws, no folds: one run with the base options', () => {
    const tasks = expandSweep(parseSweepSpec({ prepared: 'p', train: { epochs: 2 } }));
    assert.deepEqual(tasks, [{ index: 0, name: '000', params: {}, args: ['--epochs', '2'] }]);
  });

  it('option names as the CLI spells them or in camelCase', () => {
    const [t] = expandSweep(parseSweepSpec({ prepared: 'p', train: { 'finetune-lr': 0.0001, finetuneEpochs: 3 } }));
    assert.deepEqual(t!.args, ['--finetune-lr', '0.0001', '--finetune-epochs', '3']);
  });

  const refused: [string, unknown, RegExp][] = [
    ['not an object', [1], /JSON object/],
    ['no prepared folder', { grid: {} }, /"prepared"/],
    ['an unknown field', { prepared: 'p', grids: {} }, /unknown field "grids"/],
    ['an option train does not have', { prepared: 'p', grid: { learningRate: [1] } }, /"learningRate" is not an option of lesion-lab train/],
    ['an option the sweep manages', { prepared: 'p', train: { run: 'x' } }, /"run" cannot be set/],
    ['folds as an option', { prepared: 'p', grid: { fold: [1, 2] } }, /use the spec's "folds"/],
    ['an empty grid list', { prepared: 'p', grid: { lr: [] } }, /grid\.lr must be a non-empty list/],
    ['an option twice', { prepared: 'p', train: { lr: 1 }, grid: { lr: [1, 2] } }, /in both train and grid/],
    ['seeds and a seed option', { prepared: 'p', train: { seed: 3 }, seeds: [1, 2] }, /keep one/],
    ['one fold', { prepared: 'p', folds: 1 }, /at least 2/],
    ['a reversed range', { prepared: 'p', random: { trials: 2, space: { lr: { log: [1, 0.1] } } } }, /low ≤ high/],
    ['a log range through zero', { prepared: 'p', random: { trials: 2, space: { lr: { log: [0, 1] } } } }, /above 0/],
    ['an unknown domain', { prepared: 'p', random: { trials: 2, space: { lr: { normal: [0, 1] } } } }, /"uniform"/],
  ];
  for (const [what, spec, message] of refused) {
    it(`refuses ${what}, saying where`, () => {
      assert.throws(() => parseSweepSpec(spec), (err: unknown) => err instanceof SweepSpecError && message.test(err.message));
    });
  }

  it('refuses, naming the run, a combination train would refuse (a value out of range)', () => {
    assert.throws(() => expandSweep(parseSweepSpec({ prepared: 'p', grid: { size: [96, 4096] } })), (err: unknown) => err instanceof SweepSpecError && /Run 1 .*--size must be at most 1024/.test(err.message));
    assert.throws(() => expandSweep(parseSweepSpec({ prepared: 'p', grid: { model: ['resnet50', 'vgg16'] } })), /--model must be one of/);
  });

  it('refuses a spec that expands to an absurd number of runs', () => {
    const values = Array.from({ length: 30 }, (_, i) => i + 1);
    assert.throws(() => expandSweep(parseSweepSpec({ prepared: 'p', grid: { epochs: values, batch: values, size: values.map((v) => 32 + v) } })), /27,000 runs/);
  });
});
