import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { BackendEvent } from '../../src/shared/protocol/backend';
import { LESION_CLASSES } from '../../src/shared/classes';
import { runCli, startCli } from '../helpers/cli';

const PARTS = ['HAM10000_images_part_1', 'HAM10000_images_part_2'];

async function readRows(out: string): Promise<string[][]> {
  const text = await fs.readFile(path.join(out, 'HAM10000_metadata.csv'), 'utf8');
  const lines = text.trimEnd().split('\n');
  assert.equal(lines[0], 'lesion_id,image_id,dx,dx_type,age,sex,localization');
  return lines.slice(1).map((l) => l.split(','));
}

async function listImages(out: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const part of PARTS) for (const name of await fs.readdir(path.join(out, part))) found.set(name, part);
  return found;
}

describe('demo-data (CLI)', function () {
  this.timeout(120_000);
  let tmp: string;
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-lab-demo-'));
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('writes the Kaggle HAM10000 layout: metadata CSV and decodable JPEGs split over two folders', async () => {
    const out = path.join(tmp, 'demo');
    const r = await runCli(['demo-data', '--out', out, '--per-class', '6', '--size', '64', '--seed', '3', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const finish = r.events.find((e): e is Extract<BackendEvent, { type: 'demoData/didFinish' }> => e.type === 'demoData/didFinish');
    assert.ok(finish);
    assert.equal(finish.out, out);
    assert.equal(finish.images, 42);
    assert.deepEqual(finish.perClass, Object.fromEntries(LESION_CLASSES.map((c) => [c, 6])));
    const progress = r.events.filter((e) => e.type === 'progress');
    assert.ok(progress.length >= 2 && progress.every((e) => e.type === 'progress' && e.unit === 'image' && e.total === 42));
    assert.equal(r.events.at(-1)?.type, 'job/didEnd');

    const rows = await readRows(out);
    assert.equal(rows.length, 42);
    assert.equal(new Set(rows.map((row) => row[0])).size, finish.lesions);
    for (const c of LESION_CLASSES) assert.equal(rows.filter((row) => row[2] === c).length, 6);
    const images = await listImages(out);
    assert.equal(images.size, 42, 'exactly the listed images, no temporary files');
    const part1 = rows.filter((row) => images.get(`${row[1]}.jpg`) === PARTS[0]).length;
    assert.equal(part1, Math.round((42 * 5000) / 10015));
    for (const row of rows) {
      const file = path.join(out, images.get(`${row[1]}.jpg`)!, `${row[1]}.jpg`);
      const meta = await sharp(file).metadata();
      assert.equal(meta.format, 'jpeg');
      assert.equal(meta.width, 64);
      assert.equal(meta.height, 48);
      assert.equal(meta.channels, 3);
    }
  });

  it('writes byte-identical files for the same seed and different ones for another seed', async () => {
    const args = (out: string, seed: number): string[] => ['demo-data', '--out', out, '--total', '21', '--size', '48', '--seed', String(seed)];
    const [a, b, c] = [path.join(tmp, 'a'), path.join(tmp, 'b'), path.join(tmp, 'c')];
    const results = await Promise.all([runCli(args(a, 5)), runCli(args(b, 5)), runCli(args(c, 6))]);
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const csvA = await fs.readFile(path.join(a, 'HAM10000_metadata.csv'));
    assert.ok(csvA.equals(await fs.readFile(path.join(b, 'HAM10000_metadata.csv'))));
    assert.ok(!csvA.equals(await fs.readFile(path.join(c, 'HAM10000_metadata.csv'))));
    const imagesA = await listImages(a);
    for (const [name, part] of imagesA) {
      const bytes = await fs.readFile(path.join(a, part, name));
      assert.ok(bytes.equals(await fs.readFile(path.join(b, part, name))), name);
    }
    // Another seed: other ids for other lesions; where an id coincides, other pixels.
    const imagesC = await listImages(c);
    let compared = 0;
    for (const [name, part] of imagesA) {
      if (imagesC.get(name) !== part) continue;
      compared++;
      assert.ok(!(await fs.readFile(path.join(a, part, name))).equals(await fs.readFile(path.join(c, part, name))), name);
    }
    assert.ok(compared > 0);
  });

  it('uses HAM10000’s class counts for --total 10015', async function () {
    this.timeout(300_000);
    const out = path.join(tmp, 'ham');
    const r = await runCli(['demo-data', '--out', out, '--total', '10015', '--size', '32', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rows = await readRows(out);
    const counts = Object.fromEntries(LESION_CLASSES.map((c) => [c, rows.filter((row) => row[2] === c).length]));
    assert.deepEqual(counts, { akiec: 327, bcc: 514, bkl: 1099, df: 115, mel: 1113, nv: 6705, vasc: 142 });
    assert.equal((await fs.readdir(path.join(out, PARTS[0]!))).length, 5000);
    assert.equal((await fs.readdir(path.join(out, PARTS[1]!))).length, 5015);
  });

  it('re-runs into its own folder (dropping images no longer listed) but refuses folders with other files', async () => {
    const out = path.join(tmp, 'demo');
    assert.equal((await runCli(['demo-data', '--out', out, '--per-class', '5', '--size', '32'])).code, 0);
    const again = await runCli(['demo-data', '--out', out, '--per-class', '3', '--size', '32']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await readRows(out)).length, 21);
    assert.equal((await listImages(out)).size, 21);

    // A file demo-data did not write, inside its folder: refused, and the file is left alone.
    const foreign = path.join(out, PARTS[0]!, 'notes.txt');
    await fs.writeFile(foreign, 'mine');
    const refused = await runCli(['demo-data', '--out', out, '--per-class', '3', '--size', '32']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /notes\.txt/);
    assert.match(refused.stderr, /never deletes files it did not write/);
    assert.equal(await fs.readFile(foreign, 'utf8'), 'mine');

    // A folder that is not a demo dataset at all (here: what looks like the real one).
    const real = path.join(tmp, 'real');
    await fs.mkdir(real);
    await fs.writeFile(path.join(real, 'HAM10000_metadata.csv'), 'lesion_id,image_id,dx\n');
    const r = await runCli(['demo-data', '--out', real, '--per-class', '3', '--size', '32']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /did not write.*choose a new or empty folder/s);
    assert.equal(await fs.readFile(path.join(real, 'HAM10000_metadata.csv'), 'utf8'), 'lesion_id,image_id,dx\n');
    assert.deepEqual(await fs.readdir(real), ['HAM10000_metadata.csv']);
  });

  it('refuses --per-class with --total, and a --total too small for three images per class', async () => {
    const both = await runCli(['demo-data', '--out', path.join(tmp, 'x'), '--per-class', '3', '--total', '50']);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /not both/);
    // Too small for three images per class: the option's range says so, as bad usage (exit 2).
    const small = await runCli(['demo-data', '--out', path.join(tmp, 'y'), '--total', '10']);
    assert.equal(small.code, 2);
    assert.match(small.stderr, /--total must be at least 21, got 10/);
  });

  it('stops on SIGINT with exit 130, leaving only whole JPEGs and no temporary files', async () => {
    const out = path.join(tmp, 'demo');
    const run = startCli(['demo-data', '--out', out, '--total', '3000', '--size', '400', '--json']);
    await run.waitForEvent((e) => e.type === 'progress' && e.done >= 10);
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, r.stderr);
    assert.equal(r.events.at(-1)?.type, 'job/didEnd');
    assert.ok(!r.events.some((e) => e.type === 'demoData/didFinish'));
    const images = await listImages(out);
    assert.ok(images.size > 0 && images.size < 3000, `${images.size} images written`);
    for (const [name, part] of images) {
      assert.match(name, /^ISIC_\d{7}\.jpg$/, 'no temporary files');
      const stats = await sharp(path.join(out, part, name)).stats();
      assert.ok(stats.channels.length === 3, name);
    }
    // The metadata is written last: a cancelled run has none, and a re-run completes it.
    await assert.rejects(fs.stat(path.join(out, 'HAM10000_metadata.csv')));
  });
});
