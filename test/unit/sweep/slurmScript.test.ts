import assert from 'node:assert/strict';
import { sbatchScript, slurmTaskState } from '../../../src/backend/sweep/slurmExecutor';
import { SweepFolder } from '../../../src/backend/sweep/sweepFolder';
import type { SweepPlan } from '../../../src/shared/sweep';

const plan: SweepPlan = { version: 1, kind: 'cv', name: "derm's cv", createdAt: '2026-01-01T00:00:00Z', prepared: '/data/prepared', spec: {}, tasks: [] };

describe('Slurm executor: the batch script and the states', () => {
  it('writes every resource option as an #SBATCH line, then the set-up line, then the task command for $SLURM_ARRAY_TASK_ID', () => {
    const script = sbatchScript(new SweepFolder('/scratch/sweeps/cv 1'), plan, {
      kind: 'slurm',
      partition: 'gpu',
      time: '4:00:00',
      cpus: 8,
      gpus: 1,
      mem: '32G',
      sbatch: ['--qos=high', ' --account=derm '],
      setup: 'module load nodejs/20',
      node: '/opt/node/bin/node',
      cli: '/home/me/.vscode-server/extensions/lesion-lab/dist/backend/cli.js',
    });
    const lines = script.split('\n');
    assert.equal(lines[0], '#!/bin/bash');
    const directives = lines.filter((l) => l.startsWith('#SBATCH'));
    assert.deepEqual(directives, [
      '#SBATCH --job-name=lesion-lab-derm-s-cv',
      `#SBATCH --output='/scratch/sweeps/cv 1/logs/%A_%a.out'`,
      '#SBATCH --partition=gpu',
      '#SBATCH --time=4:00:00',
      '#SBATCH --cpus-per-task=8',
      '#SBATCH --gpus-per-task=1',
      '#SBATCH --mem=32G',
      '#SBATCH --qos=high',
      '#SBATCH --account=derm',
    ]);
    // No command may come before the last #SBATCH line, or Slurm ignores the directives after it.
    const firstCommand = lines.findIndex((l, i) => i > 0 && l.trim() !== '' && !l.startsWith('#'));
    assert.ok(firstCommand > lines.lastIndexOf(directives.at(-1)!));
    assert.ok(lines.indexOf('module load nodejs/20') < lines.findIndex((l) => l.startsWith('exec ')));
    assert.equal(
      lines.find((l) => l.startsWith('exec ')),
      `exec '/opt/node/bin/node' '/home/me/.vscode-server/extensions/lesion-lab/dist/backend/cli.js' 'sweep-task' '--sweep' '/scratch/sweeps/cv 1' '--index' "$SLURM_ARRAY_TASK_ID"`,
    );
  });

  it('maps Slurm’s job states onto the task states, failures and pre-emption included', () => {
    const cases: [string, string][] = [
      ['PENDING', 'pending'],
      ['REQUEUED', 'pending'],
      ['RUNNING', 'running'],
      ['COMPLETING', 'running'],
      ['COMPLETED', 'finished'],
      ['CANCELLED', 'cancelled'],
      ['FAILED', 'failed'],
      ['TIMEOUT', 'failed'],
      ['PREEMPTED', 'failed'],
      ['NODE_FAIL', 'failed'],
      ['OUT_OF_MEMORY', 'failed'],
    ];
    for (const [word, state] of cases) assert.equal(slurmTaskState(word), state, word);
  });
});
