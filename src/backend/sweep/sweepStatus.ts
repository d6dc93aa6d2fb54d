/**
 * Each task's state: the scheduler's word where it has one (a queued task has no run folder yet; a killed one's
 * folder still says "running"), and the run folder's epochs and figures for the rest.
 */
import type { SweepPlan, SweepStatus, TaskState, TaskStatus } from '../../shared/sweep';
import type { Executor } from './executor';
import { bestEpoch, readRunProgress } from './runProgress';
import type { SweepFolder } from './sweepFolder';

export async function sweepStatus(folder: SweepFolder, plan: SweepPlan, executor: Executor): Promise<SweepStatus> {
  const view = await executor.view(plan);
  const tasks: TaskStatus[] = [];
  for (const task of plan.tasks) {
    const run = folder.runDir(task);
    const p = await readRunProgress(run);
    const s = view.tasks.get(task.index);
    const done = p.status === 'finished' && p.predicted;
    // A finished run is finished whatever the scheduler says last (a COMPLETED task, or one cancelled after it wrote its results).
    let state: TaskState = done ? 'finished' : (s?.state ?? 'waiting');
    // The scheduler says COMPLETED but the run did not finish: the task ended without its results.
    if (state === 'finished' && !done) state = 'failed';
    if (!s && !done && view.problem && p.status) state = p.status === 'running' ? 'running' : p.status === 'finished' ? 'running' : p.status;
    const last = p.epochs.at(-1);
    const best = bestEpoch(p.epochs);
    tasks.push({
      index: task.index,
      name: task.name,
      run,
      state,
      ...(s ? { schedulerState: s.word, jobId: s.jobId } : {}),
      attempts: s?.attempts ?? 0,
      params: task.params,
      epochs: p.epochs.length,
      ...(p.epochsTotal ? { epochsTotal: p.epochsTotal } : {}),
      ...(last ? { valBalancedAccuracy: last.valBalancedAccuracy, valAccuracy: last.valAccuracy, valLoss: last.valLoss } : {}),
      ...(last?.valBalancedAccuracyCi ? { valBalancedAccuracyCi: last.valBalancedAccuracyCi } : {}),
      ...(best ? { bestValBalancedAccuracy: best.valBalancedAccuracy } : {}),
      ...(p.error && state === 'failed' ? { message: p.error } : {}),
    });
  }
  return { folder: folder.dir, kind: plan.kind, name: plan.name, executor: executor.kind, tasks, ...(view.problem ? { schedulerProblem: view.problem } : {}), checkedAt: new Date().toISOString() };
}
