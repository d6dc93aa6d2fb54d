import { createHash } from 'node:crypto';
import path from 'node:path';
import type { BackendEvent } from '../../shared/protocol/backend';
import type { EngineChoice } from '../../shared/protocol/engines';
import type { JobRequest } from '../../shared/protocol/jobs';
import type { PredictionItem, PredictionPanelState } from '../../shared/protocol/views/prediction';
import type { JobResult } from '../backendClient';
import { dataUri } from '../dataUri';
import type { RunOptions } from '../jobRunner';

/** What the controller needs of the job runner (the JobRunner itself in the extension). */
export interface PredictJobs {
  run(request: JobRequest, opts: RunOptions): Promise<JobResult | undefined>;
}

const IMAGE = /\.(jpe?g|png)$/i;

/**
 * The images a Classify Lesion invocation applies to: the Explorer's multi-selection (VS Code passes the clicked
 * item and the whole selection), else the clicked item; only .jpg/.jpeg/.png, each once, in selection order.
 */
export function imagesToClassify(clicked: unknown, selection: unknown): string[] {
  const fsPath = (x: unknown): string | undefined => (typeof x === 'object' && x !== null && typeof (x as { fsPath?: unknown }).fsPath === 'string' ? (x as { fsPath: string }).fsPath : undefined);
  const all = Array.isArray(selection) && selection.length > 0 ? selection.map(fsPath) : [fsPath(clicked)];
  return [...new Set(all.filter((p): p is string => p !== undefined && IMAGE.test(p)))];
}

/**
 * Classify Lesion: probabilities from a run's best checkpoint with the model's provenance beside them,
 * optional TTA and temperature scaling, and a Grad-CAM overlay per image.
 */
export class PredictionController {
  state: PredictionPanelState = { items: [], tta: false, calibrated: false, loading: false };

  constructor(
    private readonly jobs: PredictJobs,
    private readonly gradcamRoot: string,
    private readonly onChange: () => void,
    /** The lesionLab.engine setting, read at each use. */
    private readonly engine: () => EngineChoice = () => 'auto',
    /** The lesionLab.threads setting (undefined: every physical core). */
    private readonly threads: () => number | undefined = () => undefined,
  ) {}

  /**
   * One predict job for all the images: one that cannot be read shows its reason, the others their results.
   * Calibration is the run's own (a temperature fitted on its validation split): another run starts without it.
   */
  async classify(images: readonly string[], run: string, tta = this.state.tta, calibrated = this.state.run === run && this.state.calibrated): Promise<void> {
    const items: PredictionItem[] = await Promise.all(images.map(async (image) => ({ image, imageUri: await dataUri(image).catch(() => undefined) })));
    this.state = { items, run, tta, calibrated, loading: true, model: this.state.run === run ? this.state.model : undefined };
    this.onChange();
    const out = path.join(this.gradcamRoot, createHash('sha1').update(`${run}\0${images.join('\0')}`).digest('hex').slice(0, 16));
    let finished: Extract<BackendEvent, { type: 'predict/didFinish' }> | undefined;
    const failures = new Map<string, string>();
    const result = await this.jobs.run({ command: 'predict', options: { run, images: [...images], tta, calibrated, gradcam: out, engine: this.engine(), threads: this.threads() } }, {
      title: images.length === 1 ? 'Classify lesion' : `Classify ${images.length} lesions`,
      notify: true,
      onEvent: (e) => {
        if (e.type === 'predict/didFailImage') failures.set(e.image, e.error);
        if (e.type === 'predict/didFinish') finished = e;
      },
    });
    const byImage = new Map((finished?.predictions ?? []).map((p) => [p.image, p]));
    const done = await Promise.all(
      items.map(async (item): Promise<PredictionItem> => {
        const prediction = byImage.get(item.image);
        const gradcamHeatUri = prediction?.gradcamHeat ? await dataUri(prediction.gradcamHeat).catch(() => undefined) : undefined;
        const error = failures.get(item.image) ?? (prediction || !finished ? undefined : 'not classified');
        return { ...item, ...(prediction ? { prediction } : {}), ...(gradcamHeatUri ? { gradcamHeatUri } : {}), ...(error ? { error } : {}) };
      }),
    );
    // The job as a whole failed only when no image got a result or a reason of its own.
    const jobError = finished ? undefined : (result?.error?.message ?? 'Classification did not finish.');
    this.state = {
      ...this.state,
      items: done,
      model: finished?.model ?? this.state.model,
      classes: finished?.classes,
      classLabels: finished?.classLabels,
      loading: false,
      ...(jobError ? { error: jobError } : {}),
    };
    this.onChange();
  }

  async rerun(tta: boolean, calibrated: boolean): Promise<void> {
    if (this.state.items.length > 0 && this.state.run) await this.classify(this.state.items.map((i) => i.image), this.state.run, tta, calibrated);
  }
}
