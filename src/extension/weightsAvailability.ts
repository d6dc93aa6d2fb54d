/**
 * Whether the ImageNet weights a new run needs can be had, asked before the run starts: cached (and
 * verified) → ready; downloadable (one HEAD request, a few seconds at most) → downloaded first as a job of
 * its own, with progress and size, and cached once; neither → the run is refused before anything is
 * written, with the ways out in words (train from scratch, a weights file). The Run form shows the
 * latest answer (LabState › weights) while the person fills it in.
 */
import type { WeightsStatus } from '../shared/protocol/backend';
import type { ModelName } from '../shared/protocol/jobs';
import type { WeightsView } from '../shared/protocol/views/sidebar';
import { formatBytes } from '../shared/format';
import type { JobRunner } from './jobRunner';
import type { LabState } from './state';

export interface WeightsKey {
  model: ModelName;
  alpha?: number;
  size: number;
}

/** An answer other than "cached" is asked again after this long (the network may have come back). */
const RECHECK_AFTER_MS = 30_000;

const keyOf = (k: WeightsKey): string => `${k.model}/${k.model === 'mobilenetv2' ? (k.alpha ?? 1) : '-'}/${k.size}`;

const widthText = (alpha: number): string => (Number.isInteger(alpha) ? alpha.toFixed(1) : String(alpha));

/** The plain-words reason a run cannot have its ImageNet weights, with the ways out. */
export function weightsUnavailableMessage(status: WeightsStatus): string {
  const what = `ImageNet weights for ${status.model}${status.model === 'mobilenetv2' ? ` (width ${widthText(status.alpha ?? 1)}, ${status.size} px)` : ''}`;
  return `The ${what} are not on this computer and cannot be downloaded now: ${status.download?.reason ?? 'the server did not answer'}. ` +
    'Train from scratch instead (much weaker, but it learns), or pick a weights file you have (a Keras .h5 or a TF.js model.json).';
}

export class WeightsAvailability {
  private readonly answers = new Map<string, { status: WeightsStatus; at: number }>();
  private readonly inFlight = new Map<string, Promise<WeightsStatus | undefined>>();

  constructor(
    private readonly jobs: JobRunner,
    private readonly state: LabState,
  ) {}

  /** Checks (or re-uses a recent answer) and shows the result in the Run form. */
  async check(key: WeightsKey, again = false): Promise<WeightsStatus | undefined> {
    const id = keyOf(key);
    const known = this.answers.get(id);
    if (known && !again && (known.status.cached || Date.now() - known.at < RECHECK_AFTER_MS)) {
      this.show(key, { checking: false, status: known.status });
      return known.status;
    }
    const running = this.inFlight.get(id);
    if (running) return running;
    this.show(key, { checking: true, status: known?.status });
    const asked = this.ask(key).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, asked);
    return asked;
  }

  /** Downloads the weights as a job with a progress notification; the verified, cached status, or undefined if it failed or was cancelled. */
  async download(key: WeightsKey, bytes?: number): Promise<WeightsStatus | undefined> {
    let status: WeightsStatus | undefined;
    const result = await this.jobs.run(
      { command: 'weights', options: { model: key.model, ...(key.model === 'mobilenetv2' && key.alpha !== undefined ? { alpha: key.alpha } : {}), size: key.size, download: true } },
      {
        title: `Download ImageNet weights${bytes ? ` (${formatBytes(bytes)})` : ''}`,
        notify: true,
        // Its failure is said by the caller, with the ways on (another try, a file, from scratch).
        quietFailure: true,
        onEvent: (e) => {
          if (e.type === 'weights/didCheck') status = e.status;
        },
      },
    );
    if (result?.status !== 'done' || !status?.cached) {
      this.show(key, { checking: false, ...(result?.error ? { error: result.error.message } : {}) });
      return undefined;
    }
    this.answers.set(keyOf(key), { status, at: Date.now() });
    this.show(key, { checking: false, status });
    return status;
  }

  private async ask(key: WeightsKey): Promise<WeightsStatus | undefined> {
    let status: WeightsStatus | undefined;
    const result = await this.jobs.run(
      { command: 'weights', options: { model: key.model, ...(key.model === 'mobilenetv2' && key.alpha !== undefined ? { alpha: key.alpha } : {}), size: key.size, download: false } },
      {
        title: 'Check ImageNet weights',
        quietFailure: true,
        onEvent: (e) => {
          if (e.type === 'weights/didCheck') status = e.status;
        },
      },
    );
    if (status) {
      this.answers.set(keyOf(key), { status, at: Date.now() });
      this.show(key, { checking: false, status });
    } else {
      this.show(key, { checking: false, error: result?.error?.message ?? 'the check did not finish' });
    }
    return status;
  }

  private show(key: WeightsKey, view: Omit<WeightsView, 'model' | 'alpha' | 'size'>): void {
    this.state.update({ weights: { model: key.model, ...(key.alpha !== undefined ? { alpha: key.alpha } : {}), size: key.size, ...view } });
  }
}
