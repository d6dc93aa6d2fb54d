import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { load } from 'js-yaml';
import { claimMountPath, kubernetesIndexedJob } from '../../../src/backend/sweep/kubernetesJob';
import { SweepFolder } from '../../../src/backend/sweep/sweepFolder';
import type { SweepPlan, SweepTask } from '../../../src/shared/sweep';

const tasks: SweepTask[] = [0, 1, 2, 3, 4].map((index) => ({ index, name: `t${index}`, run: `runs/t${index}`, args: [], options: {} }) as unknown as SweepTask);
const plan: SweepPlan = { version: 1, kind: 'sweep', name: "Derm's LR sweep", createdAt: '2026-01-01T00:00:00Z', prepared: '/work/studies/derm/prepared', spec: {}, tasks };

interface Container { name: string; image: string; command: string[]; resources?: { limits: Record<string, string> }; volumeMounts: { name: string; mountPath: string }[] }
interface IndexedJob {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: { completionMode: string; completions: number; parallelism: number; backoffLimitPerIndex: number; maxFailedIndexes: number; template: { spec: { restartPolicy: string; containers: Container[]; volumes: { name: string; persistentVolumeClaim: { claimName: string } }[] } } };
}

describe('Kubernetes executor: the Indexed Job manifest (--dry-run)', () => {
  const folder = new SweepFolder("/work/studies/derm/sweeps/lr it's");
  const yaml = kubernetesIndexedJob(folder, plan, { kind: 'kubernetes', cpus: 4, gpus: 1, mem: '16G', parallel: 2, image: 'registry.example/lesion-lab:1', claim: 'derm-data', setup: 'source /etc/profile', node: '/bin/echo', cli: '/opt/lesion lab/cli.js' });
  const job = load(yaml) as IndexedJob;

  it('parses as YAML into an Indexed Job: one completion per task, the parallelism, retries per index, the resources and the claim', () => {
    assert.equal(job.apiVersion, 'batch/v1');
    assert.equal(job.kind, 'Job');
    assert.match(job.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS-1123 name');
    assert.equal(job.metadata.name, 'lesion-lab-derm-s-lr-sweep');
    assert.deepEqual(
      { mode: job.spec.completionMode, completions: job.spec.completions, parallelism: job.spec.parallelism, maxFailed: job.spec.maxFailedIndexes },
      { mode: 'Indexed', completions: plan.tasks.length, parallelism: 2, maxFailed: plan.tasks.length },
    );
    assert.ok(job.spec.backoffLimitPerIndex >= 1, 'a failed pod is retried (and resumes its run)');
    const pod = job.spec.template.spec;
    assert.equal(pod.restartPolicy, 'Never');
    const [c] = pod.containers;
    assert.equal(c!.image, 'registry.example/lesion-lab:1');
    assert.deepEqual(c!.resources?.limits, { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': '1' });
    assert.deepEqual(pod.volumes, [{ name: 'work', persistentVolumeClaim: { claimName: 'derm-data' } }]);
    // Mounted where both the sweep folder and the prepared data lie, so that the plan's paths hold in the pod.
    assert.deepEqual(c!.volumeMounts, [{ name: 'work', mountPath: '/work/studies/derm' }]);
  });

  it('runs `sweep-task --sweep DIR --index $JOB_COMPLETION_INDEX` for each index, after the set-up line (quotes and spaces survive the shell)', () => {
    const [shell, flag, script] = job.spec.template.spec.containers[0]!.command;
    assert.deepEqual([shell, flag], ['bash', '-c']);
    assert.ok(script!.startsWith('source /etc/profile && exec '), script);
    // The real shell line, with printf standing in for node: what each pod would run, argument by argument.
    const line = script!.replace('source /etc/profile && ', '').replace("exec '/bin/echo'", "exec printf '[%s]\\n'");
    for (const index of [0, 3]) {
      const argv = execFileSync('bash', ['-c', line], { env: { ...process.env, JOB_COMPLETION_INDEX: String(index) }, encoding: 'utf8' });
      assert.equal(argv, `[/opt/lesion lab/cli.js]\n[sweep-task]\n[--sweep]\n[/work/studies/derm/sweeps/lr it's]\n[--index]\n[${index}]\n`);
    }
  });

  it('defaults: every task at once, the node image, no limits; a sweep and data with no shared folder are refused', () => {
    const plain = load(kubernetesIndexedJob(new SweepFolder('/work/studies/derm/sweeps/a'), plan, { kind: 'kubernetes' })) as IndexedJob;
    assert.equal(plain.spec.parallelism, plan.tasks.length);
    assert.equal(plain.spec.template.spec.containers[0]!.resources, undefined);
    assert.equal(plain.spec.template.spec.volumes[0]!.persistentVolumeClaim.claimName, 'lesion-lab-work');
    assert.equal(claimMountPath('/work/a/sweep', '/work/a/prepared'), '/work/a');
    assert.equal(claimMountPath('/work/a', '/work/a/prepared'), '/work/a');
    assert.throws(() => kubernetesIndexedJob(new SweepFolder('/scratch/sweep'), plan, { kind: 'kubernetes' }), /share no folder below \/.*Put them under one folder/);
  });
});
