/**
 * The Cross-Validate… form's pure parts: the Run form's options turned into what every fold run of `cv` sets, a
 * one-line description of them for the form, and the `cv` request that resumes a cross-validation from its plan.
 */
import type { TrainOptions } from './protocol/jobs';
import { CV_MANAGED_TRAIN_OPTIONS } from './protocol/jobs';
import type { CrossValidateOptions } from './protocol/sweeps';
import type { ExecutorOptions, SweepPlan, SweepValue } from './sweep';

/** The `cv` job's follow options from the UI: locally the job lasts until the folds are trained; on Slurm it returns after submitting. */
export const UI_FOLLOW = { watch: false, pollSeconds: 30, maxRetries: 3, dryRun: false } as const;

/** A run form's options as `cv`'s train values (by option key): what every fold run sets. */
export function foldTrainValues(o: TrainOptions): Record<string, SweepValue> {
  const out: Record<string, SweepValue> = {};
  for (const [key, value] of Object.entries(o)) {
    // A false switch is train's default; the cross-validation sets the run, dataset and fold itself.
    if ((CV_MANAGED_TRAIN_OPTIONS as readonly string[]).includes(key) || value === undefined || value === false) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = value;
  }
  return out;
}

/** "mobilenetv2 α0.35 · from scratch · 32 px · 1 epoch (head) · batch 8 · engine wasm". */
export function describeTrainOptions(o: TrainOptions): string {
  const weights = o.weights === 'imagenet' ? 'ImageNet weights' : o.weights === 'none' ? 'from scratch' : `weights ${o.weights.split(/[\\/]/).pop()}`;
  const epochs = o.phase === 'both' ? `${o.epochs} + ${o.finetuneEpochs ?? o.epochs} epochs (head, then fine-tune)` : `${o.epochs} epoch${o.epochs === 1 ? '' : 's'} (${o.phase === 'head' ? 'head' : 'fine-tune'})`;
  return [`${o.model}${o.alpha !== undefined ? ` α${o.alpha}` : ''}`, weights, `${o.size} px`, epochs, `batch ${o.batch}`, o.augment !== 'none' ? `augment ${o.augment}` : undefined, `engine ${o.engine}`].filter(Boolean).join(' · ');
}

/**
 * The same `cv` again, into the same folder: finished fold runs are skipped, the others resume from their last
 * checkpoints. Built from the plan (`sweep.json`), whose spec is what `cv` recorded, so the backend sees the same
 * cross-validation and not another one aimed at the folder.
 */
export function resumeCrossValidation(plan: SweepPlan, folder: string, executor: ExecutorOptions): CrossValidateOptions | undefined {
  const spec = plan.spec as { train?: unknown } | undefined;
  if (plan.kind !== 'cv' || !plan.folds || typeof spec?.train !== 'object' || spec.train === null) return undefined;
  return { prepared: plan.prepared, out: folder, folds: plan.folds.k, foldSeed: plan.folds.seed, train: spec.train as Record<string, SweepValue>, executor, ...UI_FOLLOW };
}
