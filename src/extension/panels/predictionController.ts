import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { EngineChoice } from '../../shared/protocol/engines';
import type { PredictionPanelState } from '../../shared/protocol/views/prediction';
import type { JobRunner } from '../jobRunner';

/** Classify Lesion: probabilities from a run's best checkpoint, optional TTA, and a Grad-CAM overlay. */
export class PredictionController {
  state: PredictionPanelState = { tta: false, loading: false };

  constructor(
    private readonly jobs: JobRunner,
    private readonly gradcamRoot: string,
    private readonly onChange: () => void,
    /** The lesionLab.engine setting, read at each use. */
    private readonly engine: () => EngineChoice = () => 'auto',
  ) {}

  async classify(image: string, run: string, tta = this.state.tta): Promise<void> {
    const imageUri = await dataUri(image).catch(() => undefined);
    this.state = { image, imageUri, run, tta, loading: true };
    this.onChange();
    const out = path.join(this.gradcamRoot, createHash('sha1').update(`${run}\0${image}`).digest('hex').slice(0, 16));
    let prediction: PredictionPanelState['prediction'];
    let classes: PredictionPanelState['classes'];
    let classLabels: PredictionPanelState['classLabels'];
    const result = await this.jobs.run({ command: 'predict', options: { run, images: [image], tta, gradcam: out, engine: this.engine() } }, {
      title: 'Classify lesion',
      notify: true,
      onEvent: (e) => {
        if (e.type === 'predict/didFinish') {
          prediction = e.predictions[0];
          classes = e.classes;
          classLabels = e.classLabels;
        }
      },
    });
    const gradcamUri = prediction?.gradcam ? await dataUri(prediction.gradcam).catch(() => undefined) : undefined;
    this.state = { ...this.state, prediction, classes, classLabels, gradcamUri, loading: false, error: prediction ? undefined : (result?.error?.message ?? 'Classification did not finish.') };
    this.onChange();
  }

  async rerun(tta: boolean): Promise<void> {
    if (this.state.image && this.state.run) await this.classify(this.state.image, this.state.run, tta);
  }
}

async function dataUri(file: string): Promise<string> {
  const ext = path.extname(file).toLowerCase();
  const mime = ext === '.png' ? 'image/png' : 'image/jpeg';
  return `data:${mime};base64,${(await fs.readFile(file)).toString('base64')}`;
}
