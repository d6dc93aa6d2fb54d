import * as vscode from 'vscode';
import type { BackendEvent } from '../../shared/protocol/backend';
import type { LrFindOptions, TrainOptions } from '../../shared/protocol/jobs';
import type { LrFinderPanelState } from '../../shared/protocol/views/lrFinder';
import type { LrFindAnswer, LrFindRequest } from '../../shared/protocol/views/sidebar';
import type { JobRunner } from '../jobRunner';
import type { TrainOptionsFromForm } from '../commands/trainingCommands';
import { RequestRefused } from '../webviewInbox';

/** Smith's and fastai's range: 1e-7 to 10 over 100 batches (it stops earlier when the loss diverges). */
const RANGE = { startLr: 1e-7, endLr: 10, steps: 100 };

/**
 * The Learning Rate Finder: runs `lr-find` for the run the form describes, draws the curve in its panel,
 * and answers the form with the learning rate to put in the phase's field.
 */
export class LrFinderController {
  state: LrFinderPanelState = { status: 'empty', points: [], trusted: vscode.workspace.isTrusted };

  constructor(
    private readonly jobs: JobRunner,
    private readonly trainOptions: TrainOptionsFromForm,
    /** Why the run's weights cannot be had now (ImageNet weights neither cached nor downloadable), or undefined. */
    private readonly weightsRefusal: (options: TrainOptions) => Promise<string | undefined>,
    private readonly showPanel: () => void,
    private readonly onChange: () => void,
  ) {}

  async find(request: LrFindRequest): Promise<LrFindAnswer> {
    if (!vscode.workspace.isTrusted) throw new RequestRefused('The learning-rate finder trains a model: it is disabled in an untrusted workspace.');
    if (this.jobs.busy) throw new RequestRefused('Lesion Lab is busy with another job. Stop it first, or wait for it to finish.');
    const o = await this.trainOptions(request.form);
    const refused = await this.weightsRefusal(o);
    if (refused) throw new RequestRefused(refused);
    const options: LrFindOptions = {
      prepared: o.prepared,
      model: o.model,
      alpha: o.alpha,
      weights: o.weights,
      phase: request.phase,
      batch: o.batch,
      size: o.size,
      optimizer: o.optimizer,
      unfreezeFrom: o.unfreezeFrom,
      classWeights: o.classWeights,
      engine: o.engine,
      threads: o.threads,
      seed: o.seed,
      ...RANGE,
    };
    const optimizer = o.optimizer ?? (request.phase === 'head' ? 'rmsprop' : 'adam');
    const setup = [`${o.model}${o.model === 'mobilenetv2' && o.alpha ? ` α${o.alpha}` : ''}`, o.weights === 'none' ? 'from scratch' : o.weights === 'imagenet' ? 'ImageNet weights' : 'own weights', `${o.size} px`, `batch ${o.batch}`, optimizer].join(' · ');
    this.state = { status: 'running', phase: request.phase, setup, points: [], trusted: true };
    this.showPanel();
    this.onChange();
    let finished: Extract<BackendEvent, { type: 'lrFind/didFinish' }> | undefined;
    const result = await this.jobs.run({ command: 'lr-find', options }, {
      title: `Find the ${request.phase === 'head' ? 'head' : 'fine-tuning'} learning rate`,
      notify: true,
      onEvent: (e) => {
        if (e.type === 'lrFind/didFinish') finished = e;
      },
    });
    if (!finished || finished.suggestion.suggested === undefined) {
      const error = result?.error?.message ?? (result?.status === 'cancelled' ? 'The range test was cancelled.' : 'The range test did not finish; see the Lesion Lab output channel.');
      this.state = { ...this.state, status: 'failed', error };
      this.onChange();
      throw new RequestRefused(error);
    }
    const s = finished.suggestion;
    const suggested = s.suggested!;
    this.state = { ...this.state, status: 'done', points: finished.points, suggestion: s, stoppedBy: finished.stoppedBy, applied: { field: request.phase === 'head' ? 'lr' : 'finetuneLr', value: suggested } };
    this.onChange();
    return { suggested, ...(s.steepest !== undefined ? { steepest: s.steepest } : {}), ...(s.minimumTenth !== undefined ? { minimumTenth: s.minimumTenth } : {}) };
  }
}
