/**
 * A sweep folder: `sweep.json` (the expanded plan, written before anything runs), `runs/<task>/` (one run folder
 * per task), `summary.json` + `summary.md`, and the executor's own files (`executor.json`, `slurm/`, `logs/`).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SweepPlan, SweepTask } from '../../shared/sweep';
import { UserError } from '../errors';
import { writeJsonAtomic } from '../fsAtomic';

export const PLAN_FILE = 'sweep.json';

export class SweepFolder {
  constructor(readonly dir: string) {}

  get plan(): string {
    return path.join(this.dir, PLAN_FILE);
  }
  get summary(): string {
    return path.join(this.dir, 'summary.json');
  }
  get summaryMarkdown(): string {
    return path.join(this.dir, 'summary.md');
  }
  /** Which executor ran the tasks last, and what it needs to find them again (Slurm job ids). */
  get executor(): string {
    return path.join(this.dir, 'executor.json');
  }
  get logs(): string {
    return path.join(this.dir, 'logs');
  }
  runDir(task: Pick<SweepTask, 'run'>): string {
    return path.join(this.dir, ...task.run.split('/'));
  }
}

/** The plan in `dir`, or a UserError that says what the folder is instead. */
export async function readPlan(dir: string): Promise<SweepPlan> {
  const file = path.join(dir, PLAN_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new UserError(`${dir} is not a sweep folder (it has no ${PLAN_FILE}). Start one with \`lesion-lab sweep --spec FILE\` or \`lesion-lab cv\`.`);
  }
  const plan = JSON.parse(text) as SweepPlan;
  if (plan.version !== 1 || !Array.isArray(plan.tasks)) throw new UserError(`${file} is not a sweep plan this version of Lesion Lab reads.`);
  return plan;
}

/**
 * Writes the plan before any task runs. A folder that already holds the same plan is reused (re-running a sweep
 * skips finished runs and resumes the others); one that holds another plan is refused, so that two studies never
 * share run folders.
 */
export async function writePlan(folder: SweepFolder, plan: SweepPlan): Promise<{ plan: SweepPlan; reused: boolean }> {
  const existing = await readPlan(folder.dir).catch(() => undefined);
  if (existing) {
    const same = existing.kind === plan.kind && existing.prepared === plan.prepared && JSON.stringify(existing.tasks.map((t) => t.args)) === JSON.stringify(plan.tasks.map((t) => t.args));
    if (!same) {
      throw new UserError(
        `${folder.dir} holds another ${existing.kind === 'cv' ? 'cross-validation' : 'sweep'} (${existing.tasks.length} runs on ${existing.prepared}, made ${existing.createdAt}). ` +
          'Give another output folder, or delete that one to start over.',
      );
    }
    return { plan: existing, reused: true };
  }
  const entries = await fs.readdir(folder.dir).catch(() => [] as string[]);
  if (entries.length > 0) throw new UserError(`${folder.dir} is not empty and holds no sweep. Give a new folder for the sweep.`);
  await writeJsonAtomic(folder.plan, plan);
  return { plan, reused: false };
}
