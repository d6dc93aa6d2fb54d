import path from 'node:path';
import type { DatasetSummary } from '../../shared/protocol/results';
import type { DatasetPanelState } from '../../shared/protocol/views/dataset';
import type { JobRunner } from '../jobRunner';

const THUMB_PX = 160;

/**
 * The Dataset panel: the prepared dataset's summary, and thumbnails of the near-duplicate pairs it lists (made
 * by the backend once per prepared dataset, so a person can see whether a pair is one lesion twice).
 */
export class DatasetController {
  state: DatasetPanelState = {};
  /** Which prepared dataset the thumbnails are of: its folder and when it was prepared. */
  private shownKey = '';

  constructor(
    private readonly jobs: JobRunner,
    private readonly onChange: () => void,
  ) {}

  update(dataset: { path: string; summary: DatasetSummary } | undefined): void {
    const key = dataset ? `${dataset.path}\n${dataset.summary.preparedAt}` : '';
    const thumbnails = key === this.shownKey ? this.state.thumbnails : undefined;
    this.state = { preparedPath: dataset?.path, summary: dataset?.summary, ...(thumbnails ? { thumbnails } : {}) };
    if (key === this.shownKey) return;
    this.shownKey = key;
    const files = [...new Set(dataset?.summary.nearDuplicates?.shown.flatMap((p) => [p.a.file, p.b.file]) ?? [])];
    if (dataset && files.length > 0) void this.loadThumbnails(dataset.path, files, key);
  }

  private async loadThumbnails(prepared: string, files: string[], key: string): Promise<void> {
    const byPath = new Map(files.map((f) => [path.join(prepared, ...f.split('/')), f]));
    const thumbnails: Record<string, string> = {};
    await this.jobs.run({ command: 'thumbnails', options: { files: [...byPath.keys()], size: THUMB_PX } }, {
      title: 'Thumbnails',
      quietFailure: true,
      onEvent: (e) => {
        if (e.type !== 'thumbnails/didRender') return;
        for (const item of e.items) {
          const file = byPath.get(item.file);
          if (file) thumbnails[file] = item.dataUri;
        }
      },
    });
    if (key !== this.shownKey) return; // another dataset was prepared meanwhile
    this.state = { ...this.state, thumbnails };
    this.onChange();
  }
}
