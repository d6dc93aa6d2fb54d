import { createHash } from 'node:crypto';
import path from 'node:path';
import type { EngineChoice } from '../../shared/protocol/engines';
import type { Evaluation } from '../../shared/protocol/results';
import type { EvaluationPanelState } from '../../shared/protocol/views/evaluation';
import { describeEvaluatedSet } from '../../shared/runFiles';
import { dataUri } from '../dataUri';
import type { JobRunner } from '../jobRunner';
import { readEvaluationReports } from '../runFolders';

const THUMB_PX = 160;
/** Thumbnails asked for at once: a confusion cell or a filtered page of losses. */
const THUMBS_PER_REQUEST = 48;

/**
 * The Evaluation panel: a run's reports (one per evaluated set) with a selector, thumbnails of the images
 * the panel lists, and Grad-CAM made on demand for an image of the set.
 */
export class EvaluationController {
  state: EvaluationPanelState = {};
  private reports: Evaluation[] = [];

  constructor(
    private readonly jobs: JobRunner,
    private readonly gradcamRoot: string,
    private readonly onChange: () => void,
    /** The lesionLab.engine setting, read at each use. */
    private readonly engine: () => EngineChoice = () => 'auto',
    /** The lesionLab.threads setting (undefined: every physical core). */
    private readonly threads: () => number | undefined = () => undefined,
  ) {}

  /** Shows nothing (the run shown was deleted or moved). */
  clear(): void {
    this.reports = [];
    this.state = {};
    this.onChange();
  }

  /** Shows `run`'s reports; `prefer` picks the set (else the one shown now, else validation). */
  async open(run: string, prefer?: string): Promise<void> {
    this.reports = await readEvaluationReports(run);
    const same = this.state.run === run;
    const ids = this.reports.map((r) => r.set!.id);
    const selected = [prefer, same ? this.state.selected : undefined, 'val', ids[0]].find((id) => id !== undefined && ids.includes(id));
    this.state = {
      run,
      reports: this.reports.map((r) => ({ id: r.set!.id, label: describeEvaluatedSet(r), count: r.count })),
      selected,
      evaluation: this.reports.find((r) => r.set!.id === selected),
      thumbnails: same ? this.state.thumbnails : undefined,
      gradcams: same ? this.state.gradcams : undefined,
    };
    this.onChange();
    await this.thumbnails((this.state.evaluation?.topLosses ?? []).map((t) => t.image));
  }

  async select(id: string): Promise<void> {
    if (!this.state.run || !this.reports.some((r) => r.set!.id === id)) return;
    this.state = { ...this.state, selected: id, evaluation: this.reports.find((r) => r.set!.id === id) };
    this.onChange();
    await this.thumbnails((this.state.evaluation?.topLosses ?? []).map((t) => t.image));
  }

  /** Thumbnails of images of the shown set that the panel does not have yet. */
  async thumbnails(files: string[]): Promise<void> {
    const known = new Set((this.state.evaluation?.images ?? []).map((i) => i.file).concat((this.state.evaluation?.topLosses ?? []).map((t) => t.image)));
    const missing = [...new Set(files)].filter((f) => known.has(f) && !this.state.thumbnails?.[f]).slice(0, THUMBS_PER_REQUEST);
    if (missing.length === 0) return;
    const run = this.state.run;
    await this.jobs.run({ command: 'thumbnails', options: { files: missing, size: THUMB_PX } }, {
      title: 'Thumbnails',
      onEvent: (e) => {
        if (e.type !== 'thumbnails/didRender' || this.state.run !== run) return;
        this.state = { ...this.state, thumbnails: { ...this.state.thumbnails, ...Object.fromEntries(e.items.map((i) => [i.file, i.dataUri])) } };
      },
    });
    this.onChange();
  }

  /** Grad-CAM of the run's best checkpoint on one image of the shown set, for its predicted class. */
  async gradcam(file: string): Promise<void> {
    const run = this.state.run;
    if (!run || !(this.state.evaluation?.images ?? []).some((i) => i.file === file)) return;
    this.setGradcam(file, { loading: true });
    const out = path.join(this.gradcamRoot, createHash('sha1').update(`${run}\0${file}`).digest('hex').slice(0, 16));
    let found: { gradcam?: string; gradcamNote?: string } | undefined;
    const result = await this.jobs.run({ command: 'predict', options: { run, images: [file], tta: false, gradcam: out, engine: this.engine(), threads: this.threads() } }, {
      title: 'Grad-CAM',
      notify: true,
      onEvent: (e) => {
        if (e.type === 'predict/didFinish') found = e.predictions[0];
      },
    });
    if (this.state.run !== run) return;
    const uri = found?.gradcam ? await dataUri(found.gradcam).catch(() => undefined) : undefined;
    const note = found?.gradcamNote ?? (uri ? undefined : (result?.error?.message ?? (result ? 'Grad-CAM did not finish.' : 'Lesion Lab is busy with another job: try again when it has finished.')));
    this.setGradcam(file, { ...(uri ? { uri } : {}), ...(note ? { note } : {}) });
  }

  private setGradcam(file: string, value: NonNullable<EvaluationPanelState['gradcams']>[string]): void {
    this.state = { ...this.state, gradcams: { ...this.state.gradcams, [file]: value } };
    this.onChange();
  }
}
