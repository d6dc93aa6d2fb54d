import type { AugmentRanges, FillMode } from '../../shared/protocol/augmentation';
import type { AugmentPreviewState } from '../../shared/protocol/views/augmentPreview';
import type { JobRunner } from '../jobRunner';

/** Keras' ImageDataGenerator settings of the reference workflow. */
export const REFERENCE_RANGES: AugmentRanges = { rotationDeg: 180, widthShift: 0.1, heightShift: 0.1, zoom: 0.1, horizontalFlip: true, verticalFlip: true };

/** Preview Augmentations: one image, a grid of variants with their parameters, adjustable ranges. */
export class AugmentPreviewController {
  state: AugmentPreviewState = { variants: [], ranges: { ...REFERENCE_RANGES }, fill: 'nearest', seed: 1, loading: false };
  private request = 0;

  constructor(
    private readonly jobs: JobRunner,
    private readonly size: () => number,
    private readonly onChange: () => void,
  ) {}

  async open(image: string): Promise<void> {
    this.state = { ...this.state, image, original: undefined, variants: [], error: undefined };
    await this.render(this.state.ranges, this.state.fill, this.state.seed);
  }

  async render(ranges: AugmentRanges, fill: FillMode, seed: number): Promise<void> {
    const image = this.state.image;
    if (!image) return;
    const id = ++this.request;
    this.state = { ...this.state, ranges, fill, seed, loading: true, error: undefined };
    this.onChange();
    let result: Pick<AugmentPreviewState, 'original' | 'variants'> | undefined;
    const outcome = await this.jobs.run({ command: 'augment-preview', options: { image, count: 12, seed, size: this.size(), ranges, fill } }, {
      title: 'Preview augmentations',
      onEvent: (e) => {
        if (e.type === 'augmentPreview/didRender') result = { original: e.original, variants: e.variants };
      },
    });
    if (id !== this.request) return;
    this.state = { ...this.state, ...(result ?? {}), loading: false, error: result ? undefined : (outcome?.error?.message ?? 'The preview could not be rendered.') };
    this.onChange();
  }
}
