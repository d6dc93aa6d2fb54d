import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SampleSource, SamplesPanelState } from '../../shared/protocol/views/samples';
import type { PreparedClass } from '../../shared/classes';
import { createRng, shuffle } from '../../shared/random';
import type { JobRunner } from '../jobRunner';
import { readDatasetClasses } from '../runFolders';

const PAGE_SIZE = 24;
const THUMB_PX = 160;

async function listImages(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => /\.(jpe?g|png)$/i.test(n) && !n.startsWith('.')).sort().map((n) => path.join(dir, n));
}

/**
 * The Samples panel: per class, a page of originals (train or val) or augmented images, in a
 * seeded random order (re-roll draws a new order), as thumbnails made by the backend.
 */
export class SamplesController {
  state: SamplesPanelState = { classes: [], dx: '', source: 'train', page: 0, pageSize: PAGE_SIZE, seed: 1, total: 0, items: [], loading: false };
  private request = 0;
  private folders = new Map<string, string>();

  constructor(
    private readonly jobs: JobRunner,
    private readonly onChange: () => void,
  ) {}

  async open(prepared: string | undefined): Promise<void> {
    this.state = { ...this.state, preparedPath: prepared, classes: [] };
    if (!prepared) {
      this.onChange();
      return;
    }
    const found = await readDatasetClasses(prepared);
    this.folders = new Map(found.map((c: PreparedClass) => [c.name, c.folder]));
    const classes = await Promise.all(
      found.map(async ({ name, label, folder }) => ({
        name,
        ...(label ? { label } : {}),
        train: (await listImages(path.join(prepared, 'train', folder))).length,
        aug: (await listImages(path.join(prepared, 'aug', folder))).length,
        val: (await listImages(path.join(prepared, 'val', folder))).length,
      })),
    );
    // Melanoma first where there is one (the class people look at first in HAM10000), else the first class.
    const dx = classes.some((c) => c.name === this.state.dx) ? this.state.dx : (classes.find((c) => c.name === 'mel') ?? classes[0])?.name ?? '';
    this.state = { ...this.state, classes, dx };
    await this.show(dx, this.state.source, 0, this.state.seed);
  }

  async show(dx: string, source: SampleSource, page: number, seed: number): Promise<void> {
    const prepared = this.state.preparedPath;
    const folder = this.folders.get(dx);
    if (!prepared || folder === undefined) {
      this.onChange();
      return;
    }
    const id = ++this.request;
    const files = shuffle(createRng(seed), await listImages(path.join(prepared, source, folder)));
    const pages = Math.max(1, Math.ceil(files.length / PAGE_SIZE));
    const p = Math.min(Math.max(0, page), pages - 1);
    const slice = files.slice(p * PAGE_SIZE, (p + 1) * PAGE_SIZE);
    this.state = { ...this.state, dx, source, page: p, seed, total: files.length, loading: slice.length > 0, items: [] };
    this.onChange();
    if (!slice.length) return;
    let items: SamplesPanelState['items'] = [];
    await this.jobs.run({ command: 'thumbnails', options: { files: slice, size: THUMB_PX } }, {
      title: 'Thumbnails',
      onEvent: (e) => {
        if (e.type === 'thumbnails/didRender') items = e.items.map((i) => ({ ...i, name: path.basename(i.file) }));
      },
    });
    if (id !== this.request) return; // a newer page was asked for meanwhile
    this.state = { ...this.state, items, loading: false };
    this.onChange();
  }
}
