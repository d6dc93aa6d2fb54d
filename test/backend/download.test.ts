import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import yazl from 'yazl';
import type { BackendEvent } from '../../src/shared/protocol/backend';
import { runCli, startCli } from '../helpers/cli';
import { TestHttpServer } from '../helpers/httpServer';

function zipOf(entries: Record<string, Buffer | string>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, data] of Object.entries(entries)) zip.addBuffer(Buffer.from(data), name, { compress: false });
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const exists = (p: string): Promise<boolean> => fs.stat(p).then(() => true, () => false);
type Finish = Extract<BackendEvent, { type: 'download/didFinish' }>;

describe('download (CLI, against a local HTTP server)', function () {
  this.timeout(120_000);
  let tmp: string;
  let server: TestHttpServer;
  let files: Record<string, Buffer>;
  let jpeg: Buffer;
  let jpeg2019: Buffer;

  before(async () => {
    jpeg = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#a0522d' } }).jpeg().toBuffer();
    jpeg2019 = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#5d3a9b' } }).jpeg().toBuffer();
    const padding = randomBytes(400 * 1024); // big enough to interrupt part way
    files = {
      '/2018/ISIC2018_Task3_Training_Input.zip': await zipOf({
        'ISIC2018_Task3_Training_Input/ISIC_0024306.jpg': jpeg,
        'ISIC2018_Task3_Training_Input/ISIC_0024307.jpg': padding,
        'ISIC2018_Task3_Training_Input/LICENSE.txt': 'CC BY-NC 4.0',
      }),
      '/2018/ISIC2018_Task3_Training_GroundTruth.zip': await zipOf({
        'ISIC2018_Task3_Training_GroundTruth/ISIC2018_Task3_Training_GroundTruth.csv': 'image,MEL,NV,BCC,AKIEC,BKL,DF,VASC\nISIC_0024306,0.0,1.0,0.0,0.0,0.0,0.0,0.0\n',
      }),
      '/2018/ISIC2018_Task3_Training_LesionGroupings.csv': Buffer.from('image,lesion_id,diagnosis_confirm_type\nISIC_0024306,HAM_0000550,serial imaging showing no change\n'),
      '/2018/ISIC2018_Task3_Test_Input.zip': await zipOf({ 'ISIC2018_Task3_Test_Input/ISIC_0034524.jpg': jpeg }),
      '/2018/ISIC2018_Task3_Test_GroundTruth.zip': await zipOf({
        'ISIC2018_Task3_Test_GroundTruth/ISIC2018_Task3_Test_GroundTruth.csv': 'image,MEL,NV,BCC,AKIEC,BKL,DF,VASC\nISIC_0034524,0.0,1.0,0.0,0.0,0.0,0.0,0.0\n',
      }),
      // ISIC 2019 Task 1 as served: the images' zip (one folder, with the licence files), two CSVs beside it.
      '/2019/ISIC_2019_Training_Input.zip': await zipOf({
        'ISIC_2019_Training_Input/ISIC_0000000.jpg': jpeg,
        'ISIC_2019_Training_Input/ISIC_0000001.jpg': jpeg2019,
        'ISIC_2019_Training_Input/ISIC_0000002_downsampled.jpg': jpeg,
        'ISIC_2019_Training_Input/ISIC_0000003.jpg': jpeg2019,
        'ISIC_2019_Training_Input/LICENSE.txt': 'CC BY-NC 4.0',
        'ISIC_2019_Training_Input/ATTRIBUTION.txt': 'Anonymous',
      }),
      '/2019/ISIC_2019_Training_GroundTruth.csv': Buffer.from(
        'image,MEL,NV,BCC,AK,BKL,DF,VASC,SCC,UNK\n' +
          'ISIC_0000000,0.0,1.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0\nISIC_0000001,0.0,1.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0\n' +
          'ISIC_0000002_downsampled,1.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0\nISIC_0000003,0.0,0.0,0.0,0.0,0.0,0.0,0.0,1.0,0.0\n',
      ),
      '/2019/ISIC_2019_Training_Metadata.csv': Buffer.from(
        'image,age_approx,anatom_site_general,lesion_id,sex\nISIC_0000000,55,anterior torso,BCN_0001,female\nISIC_0000001,55,anterior torso,BCN_0001,female\nISIC_0000002_downsampled,30,,,male\nISIC_0000003,80,head/neck,MSK4_0002,male\n',
      ),
    };
  });

  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-lab-download-'));
    server = await TestHttpServer.start(files);
  });
  afterEach(async () => {
    await server.close();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const base = (): string => server.url('2018/');

  it('refuses without --accept-license, showing the CC BY-NC 4.0 terms, and downloads nothing', async () => {
    const r = await runCli(['download', '--out', path.join(tmp, 'isic'), '--base-url', base()]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CC BY-NC 4\.0/);
    assert.match(r.stderr, /NON-COMMERCIAL/);
    assert.match(r.stderr, /Tschandl P\., Rosendahl C\. & Kittler H\., Sci\. Data 5, 180161 \(2018\)/);
    assert.match(r.stderr, /Codella N\. et al\., arXiv:1902\.03368/);
    assert.match(r.stderr, /re-run with --accept-license/);
    assert.equal(server.requests.length, 0);
    assert.equal(await exists(path.join(tmp, 'isic')), false);
  });

  it('downloads, verifies and extracts the training set; a re-run downloads nothing', async () => {
    const out = path.join(tmp, 'isic');
    const r = await runCli(['download', '--out', out, '--base-url', base(), '--accept-license', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const finish = r.events.find((e): e is Finish => e.type === 'download/didFinish');
    assert.ok(finish);
    assert.deepEqual(
      finish.files.map((f) => f.name),
      ['ISIC2018_Task3_Training_Input.zip', 'ISIC2018_Task3_Training_GroundTruth.zip', 'ISIC2018_Task3_Training_LesionGroupings.csv'],
    );
    for (const f of finish.files) {
      const served = files[`/2018/${f.name}`]!;
      assert.equal(f.bytes, served.length);
      assert.ok((await fs.readFile(path.join(out, f.name))).equals(served), f.name);
    }
    assert.ok(r.events.some((e) => e.type === 'progress' && e.unit === 'byte' && e.task === 'download ISIC2018_Task3_Training_Input.zip'));
    assert.ok((await fs.readFile(path.join(out, 'ISIC2018_Task3_Training_Input', 'ISIC_0024306.jpg'))).equals(jpeg));
    assert.match(await fs.readFile(path.join(out, 'ISIC2018_Task3_Training_GroundTruth', 'ISIC2018_Task3_Training_GroundTruth.csv'), 'utf8'), /^image,MEL,NV/);
    assert.equal(await exists(path.join(out, 'ISIC2018_Task3_Test_Input.zip')), false);
    assert.deepEqual((await fs.readdir(out)).filter((n) => n.endsWith('.part') || n.includes('extracting')), []);

    const before = server.requests.length;
    const again = await runCli(['download', '--out', out, '--base-url', base(), '--accept-license']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(server.requests.length, before, 'verified files are reused without a request');

    // A zip deleted after extraction (to save space) is not fetched again either.
    await fs.rm(path.join(out, 'ISIC2018_Task3_Training_Input.zip'));
    const third = await runCli(['download', '--out', out, '--base-url', base(), '--accept-license']);
    assert.equal(third.code, 0, third.stderr);
    assert.equal(server.requests.length, before);
  });

  it('resumes a transfer the server drops half way, with a Range request, to a byte-identical file', async () => {
    const name = '/2018/ISIC2018_Task3_Training_Input.zip';
    server.drops.set(name, { bytes: 200 * 1024, times: 1 });
    const out = path.join(tmp, 'isic');
    const r = await runCli(['download', '--out', out, '--base-url', base(), '--accept-license']);
    assert.equal(r.code, 0, r.stderr);
    const gets = server.requestsFor(name).filter((q) => q.method === 'GET');
    assert.equal(gets.length, 2);
    assert.equal(gets[0]!.headers.range, undefined);
    assert.match(gets[1]!.headers.range ?? '', /^bytes=[1-9]\d*-$/);
    assert.equal(sha(await fs.readFile(path.join(out, 'ISIC2018_Task3_Training_Input.zip'))), sha(files[name]!));
  });

  it('also fetches the test set with --include-test', async () => {
    const out = path.join(tmp, 'isic');
    const r = await runCli(['download', '--out', out, '--base-url', base(), '--accept-license', '--include-test', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.events.find((e): e is Finish => e.type === 'download/didFinish')?.files.length, 5);
    assert.ok((await fs.readFile(path.join(out, 'ISIC2018_Task3_Test_Input', 'ISIC_0034524.jpg'))).equals(jpeg));
    assert.ok(await exists(path.join(out, 'ISIC2018_Task3_Test_GroundTruth', 'ISIC2018_Task3_Test_GroundTruth.csv')));
  });

  it('ISIC 2019: shows its licence first, then fetches images, ground truth and metadata, which prepare reads as ISIC 2019', async () => {
    const out = path.join(tmp, 'isic2019');
    const refused = await runCli(['download', '--dataset', 'isic2019', '--out', out, '--base-url', server.url('2019/')]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /ISIC 2019 Task 1 training data are licensed under CC BY-NC 4\.0/);
    assert.match(refused.stderr, /BCN_20000: Combalia M\. et al\., arXiv:1908\.02288/);
    assert.equal(server.requests.length, 0);
    const noTest = await runCli(['download', '--dataset', 'isic2019', '--out', out, '--base-url', server.url('2019/'), '--accept-license', '--include-test']);
    assert.equal(noTest.code, 1);
    assert.match(noTest.stderr, /no test set for ISIC 2019 Task 1/);

    const r = await runCli(['download', '--dataset', 'isic2019', '--out', out, '--base-url', server.url('2019/'), '--accept-license', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const finish = r.events.find((e): e is Finish => e.type === 'download/didFinish');
    assert.deepEqual(finish?.files.map((f) => [f.name, f.bytes]), ['ISIC_2019_Training_Input.zip', 'ISIC_2019_Training_GroundTruth.csv', 'ISIC_2019_Training_Metadata.csv'].map((n) => [n, files[`/2019/${n}`]!.length]));
    assert.ok((await fs.readFile(path.join(out, 'ISIC_2019_Training_Input', 'ISIC_0000001.jpg'))).equals(jpeg2019));
    const again = await runCli(['download', '--dataset', 'isic2019', '--out', out, '--base-url', server.url('2019/'), '--accept-license']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(server.requests.filter((q) => q.method === 'GET').length, 3, 'a re-run fetches nothing');

    const prepared = path.join(tmp, 'prepared');
    const p = await runCli(['prepare', '--data', out, '--out', prepared, '--json']);
    assert.equal(p.code, 0, p.stderr);
    const summary = p.events.find((e): e is Extract<BackendEvent, { type: 'prepare/didFinish' }> => e.type === 'prepare/didFinish')!.summary;
    assert.equal(summary.layout, 'isic2019-task1-training');
    assert.deepEqual(summary.classes.filter((c) => c.all.images > 0).map((c) => [c.name, c.all.images]), [['mel', 1], ['nv', 2], ['scc', 1]]);
    assert.deepEqual(summary.grouping, { column: 'lesion_id', noun: 'lesion', ungrouped: 1 });
    assert.equal(summary.excludedCount, 0);
  });

  it('names the URL and suggests a mirror on HTTP 404', async () => {
    const r = await runCli(['download', '--out', path.join(tmp, 'isic'), '--base-url', server.url('nowhere/'), '--accept-license']);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(server.url('nowhere/ISIC2018_Task3_Training_Input.zip')), r.stderr);
    assert.match(r.stderr, /HTTP 404/);
    assert.match(r.stderr, /--base-url with a mirror/);
  });

  it('deletes the .part and says so when the checksum does not match what was verified before', async () => {
    const out = path.join(tmp, 'isic');
    assert.equal((await runCli(['download', '--out', out, '--base-url', base(), '--accept-license'])).code, 0);
    // The server now serves a different file of the same size than the one recorded as verified.
    const csv = '/2018/ISIC2018_Task3_Training_LesionGroupings.csv';
    const tampered = Buffer.from(files[csv]!);
    tampered[tampered.length - 2] = tampered[tampered.length - 2]! ^ 0x20;
    server.files.set(csv, tampered);
    await fs.rm(path.join(out, 'ISIC2018_Task3_Training_LesionGroupings.csv'));
    const r = await runCli(['download', '--out', out, '--base-url', base(), '--accept-license']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /sha256 is [0-9a-f]{64} instead of the expected/);
    assert.match(r.stderr, /ISIC2018_Task3_Training_LesionGroupings\.csv\.part was deleted/);
    assert.equal(await exists(path.join(out, 'ISIC2018_Task3_Training_LesionGroupings.csv')), false);
    assert.equal(await exists(path.join(out, 'ISIC2018_Task3_Training_LesionGroupings.csv.part')), false);
  });

  it('stops on SIGINT with exit 130, keeping the .part for a later resume and no file', async () => {
    server.trickle = { chunk: 16 * 1024, intervalMs: 50 };
    const out = path.join(tmp, 'isic');
    const dest = path.join(out, 'ISIC2018_Task3_Training_Input.zip');
    const run = startCli(['download', '--out', out, '--base-url', base(), '--accept-license', '--json']);
    await run.waitForEvent((e) => e.type === 'progress' && e.unit === 'byte' && e.done >= 64 * 1024);
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, r.stderr);
    assert.equal(await exists(dest), false);
    const part = (await fs.stat(`${dest}.part`)).size;
    assert.ok(part > 0 && part < files['/2018/ISIC2018_Task3_Training_Input.zip']!.length, `${part} bytes kept`);

    server.trickle = undefined;
    const resumed = await runCli(['download', '--out', out, '--base-url', base(), '--accept-license']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.ok(server.requests.some((q) => q.headers.range === `bytes=${part}-`));
    assert.ok((await fs.readFile(dest)).equals(files['/2018/ISIC2018_Task3_Training_Input.zip']!));
  });
});
