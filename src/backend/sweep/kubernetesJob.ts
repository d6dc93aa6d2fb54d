/**
 * A Kubernetes Indexed Job for a sweep (`--executor kubernetes --dry-run`): one pod per task, the task given by
 * `$JOB_COMPLETION_INDEX`, the sweep folder and the prepared dataset on a shared volume claim mounted at the folder
 * holding both, so the plan's paths hold inside the pods. Written, not applied: `kubectl apply -f` it. Failed pods are retried by the Job (backoffLimitPerIndex),
 * and each retry resumes its run.
 */
import path from 'node:path';
import type { SweepPlan } from '../../shared/sweep';
import { UserError } from '../errors';
import type { ExecutorOptions } from './executor';
import type { SweepFolder } from './sweepFolder';

const yamlString = (s: string): string => JSON.stringify(s);

/**
 * Where the claim is mounted: the deepest folder holding both the sweep folder and the prepared dataset, so that
 * the plan's absolute paths are the same inside the pods as here.
 */
export function claimMountPath(sweepDir: string, prepared: string): string {
  const a = path.resolve(sweepDir).split(path.sep);
  const b = path.resolve(prepared).split(path.sep);
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  const common = a.slice(0, n).join(path.sep) || path.sep;
  if (common === path.sep) {
    throw new UserError(`The sweep folder (${sweepDir}) and the prepared dataset (${prepared}) share no folder below ${path.sep}: the Kubernetes claim is mounted at one folder holding both. Put them under one folder (the one the claim holds) and plan the sweep there.`);
  }
  return common;
}

export function kubernetesIndexedJob(folder: SweepFolder, plan: SweepPlan, o: ExecutorOptions): string {
  const name = `lesion-lab-${plan.name}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 52);
  const resources: string[] = [];
  if (o.cpus) resources.push(`cpu: ${yamlString(String(o.cpus))}`);
  if (o.mem) resources.push(`memory: ${yamlString(o.mem.replace(/G$/i, 'Gi').replace(/M$/i, 'Mi'))}`);
  if (o.gpus) resources.push(`nvidia.com/gpu: ${yamlString(String(o.gpus))}`);
  const command = [o.node ?? 'node', o.cli ?? '/opt/lesion-lab/dist/backend/cli.js', 'sweep-task', '--sweep', folder.dir, '--index'];
  const mount = claimMountPath(folder.dir, plan.prepared);
  const shell = `${o.setup ? `${o.setup} && ` : ''}exec ${command.map((c) => `'${c.replace(/'/g, `'\\''`)}'`).join(' ')} "$JOB_COMPLETION_INDEX"`;
  return [
    '# Written by Lesion Lab (--executor kubernetes --dry-run): one pod per run of the sweep.',
    '# The image must hold Node.js and Lesion Lab; the claim must hold the sweep folder and the prepared dataset at the same paths.',
    'apiVersion: batch/v1',
    'kind: Job',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  completionMode: Indexed',
    `  completions: ${plan.tasks.length}`,
    `  parallelism: ${o.parallel ?? plan.tasks.length}`,
    '  backoffLimitPerIndex: 2',
    `  maxFailedIndexes: ${plan.tasks.length}`,
    '  template:',
    '    spec:',
    '      restartPolicy: Never',
    '      containers:',
    '        - name: task',
    `          image: ${yamlString(o.image ?? 'node:20-bookworm')}`,
    `          command: ["bash", "-c", ${yamlString(shell)}]`,
    ...(resources.length ? ['          resources:', '            limits:', ...resources.map((r) => `              ${r}`)] : []),
    '          volumeMounts:',
    '            - name: work',
    `              mountPath: ${yamlString(mount)}`,
    '      volumes:',
    '        - name: work',
    '          persistentVolumeClaim:',
    `            claimName: ${yamlString(o.claim ?? 'lesion-lab-work')}`,
    '',
  ].join('\n');
}
