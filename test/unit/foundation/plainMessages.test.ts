/** Small things issue 13 found on the way: each message or figure says what is true. */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { ManifestImage } from '../../../src/backend/dataset/manifest';
import { readManifest } from '../../../src/backend/dataset/manifest';
import { classesWithoutValidation } from '../../../src/backend/dataset/prepare';
import { renderModelCard } from '../../../src/backend/evaluation/modelCard';
import { createHumanReporter } from '../../../src/backend/humanOutput';
import type { DatasetClassSummary, Evaluation, NearDuplicateSummary } from '../../../src/shared/protocol/results';
import { describeNearDuplicates } from '../../../src/shared/nearDuplicates';
import type { RunConfig } from '../../../src/shared/runConfig';

function collect(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({ write: (chunk: Buffer, _enc, done) => ((text += chunk.toString()), done()) });
  return { stream, text: () => text };
}

describe('issue 13, the small things', () => {
  it('a raw dataset folder given where a prepared one belongs: prepare it into a new folder (never into itself)', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-raw-'));
    try {
      await fs.writeFile(path.join(dir, 'HAM10000_metadata.csv'), 'lesion_id,image_id,dx\n');
      await assert.rejects(readManifest(dir), (err: Error) => {
        assert.match(err.message, new RegExp(`lesion-lab prepare --data ${dir} --out ${dir}-prepared`));
        assert.doesNotMatch(err.message, new RegExp(`--out ${dir}\``));
        return true;
      });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('warns about a class too small to get any validation image', () => {
    const image = (dx: string, lesionId: string, split: 'train' | 'val'): ManifestImage => ({ imageId: `${dx}${lesionId}`, lesionId, dx, split, source: '/s', file: `${split}/${dx}/x.jpg` });
    const images = [image('nv', 'a', 'train'), image('nv', 'b', 'val'), image('df', 'c', 'train'), image('df', 'c', 'train')];
    const warnings = classesWithoutValidation(images, ['nv', 'df', 'vasc'], 0.2);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^class df has 2 image\(s\) in 1 group\(s\) and none went to validation \(val fraction 0\.2\): its recall cannot be measured/);
  });

  it('a test-only prepare prints its test counts, not train 0 val 0', () => {
    const count = (images: number) => ({ images, lesions: images });
    const classes: DatasetClassSummary[] = [
      { name: 'mel', all: count(171), train: count(0), val: count(0), test: count(171) },
      { name: 'nv', all: count(909), train: count(0), val: count(0), test: count(909) },
    ];
    const out = collect();
    const err = collect();
    createHumanReporter(out.stream, err.stream)({
      type: 'prepare/didFinish',
      out: '/p',
      manifest: '/p/manifest.json',
      summary: { sourcePath: '/d', layout: 'isic2018-task3-test', split: 'lesion', valFraction: 0.2, seed: 101, link: 'hard', classes, excludedCount: 0, excluded: [], preparedAt: '2026-01-01T00:00:00Z' },
    });
    assert.match(out.text(), /mel +171 images .* test +171/);
    assert.match(out.text(), /nv +909 images .* test +909/);
    assert.doesNotMatch(out.text(), /train +0/);
  });

  it('the model card names the layer fine-tuning starts from, as the log does (Conv1, not "1")', () => {
    const config = {
      version: 1,
      options: { model: 'mobilenetv2', alpha: 0.35, weights: 'none', phase: 'both', epochs: 1, finetuneEpochs: 1, batch: 8, size: 32, augment: 'none', classWeights: false, seed: 1, lr: 0.001, finetuneLr: 0.001, unfreezeFrom: '1', headOptimizer: 'rmsprop', finetuneOptimizer: 'adam', prepared: '/p', run: '/r', engine: 'wasm', resume: false },
      classes: ['a', 'b'],
      createdAt: '',
      lesionLab: '0.1.0',
      node: 'v20',
      dataset: { prepared: '/p', split: 'lesion', valFraction: 0.2, seed: 1, train: 10, val: 4, augmented: 0 },
      finetuneFrom: 'Conv1',
    } as unknown as RunConfig;
    const ev: Evaluation = { split: 'validation', classes: ['a', 'b'], confusion: [[1, 0], [0, 1]], perClass: [], accuracy: 1, balancedAccuracy: 1, count: 2, topLosses: [] };
    const card = renderModelCard(config, [ev], [], 1);
    assert.match(card, /then fine-tuning from `Conv1`/);
    assert.doesNotMatch(card, /from `1`/);
    // What prepare did about near-duplicates reaches the card, in prepare's words (a reviewer asks about leakage).
    assert.doesNotMatch(card, /Near-duplicates/);
    const summary: NearDuplicateSummary = { mode: 'group', distance: 4, hashed: 14, pairs: 2, clusters: 1, largestCluster: 3, crossSplit: 0, crossSplitPlain: 1, groupsJoined: 2, shown: [] };
    const withPairs = renderModelCard({ ...config, dataset: { ...config.dataset, nearDuplicates: describeNearDuplicates(summary) } }, [ev], [], 1);
    assert.match(withPairs, /^- Near-duplicates \(perceptual hash, at prepare\): 2 pair\(s\) of images from different groups within 4 bits of 64, in 1 cluster\(s\); grouped: 2 group\(s\) joined so each cluster sits on one side — 1 pair\(s\) would have crossed train\/val without it\.$/m);
  });
});
