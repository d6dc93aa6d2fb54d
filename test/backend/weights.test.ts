import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { BackendEvent, WeightsStatus } from '../../src/shared/protocol/backend';
import { assertBuilt, runCli } from '../helpers/cli';
import { preparedDemoDataset } from '../helpers/demoDataset';
import { TestHttpServer } from '../helpers/httpServer';
import { kerasMobileNetV2Table } from '../fixtures/keras/generate';
import { writeKerasH5 } from '../unit/models/kerasH5Fixture';

const FILE_035_96 = '/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5';
const statusOf = (events: BackendEvent[]): WeightsStatus | undefined => events.find((e): e is Extract<BackendEvent, { type: 'weights/didCheck' }> => e.type === 'weights/didCheck')?.status;

describe('backend process: ImageNet weights before a run needs them', function () {
  this.timeout(300_000);
  let dir: string;
  let server: TestHttpServer;
  let closedPort: number;

  before(async () => {
    assertBuilt();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-weights-'));
    const h5 = path.join(dir, 'fixture.h5');
    await writeKerasH5(h5, kerasMobileNetV2Table(0.35).layers);
    server = await TestHttpServer.start({ [FILE_035_96]: await fs.readFile(h5) });
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
  });
  after(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('lesion-lab weights: checks with one HEAD request, downloads with --download, then answers from the cache', async () => {
    const env = { LESION_LAB_CACHE: path.join(dir, 'cache'), LESION_LAB_WEIGHTS_BASE_URL: server.baseUrl };
    const args = ['weights', '--model', 'mobilenetv2', '--alpha', '0.35', '--size', '96', '--json'];
    const check = await runCli(args, { env });
    assert.equal(check.code, 0, check.stderr);
    assert.deepEqual([statusOf(check.events)?.cached, statusOf(check.events)?.download?.reachable], [false, true]);
    const got = await runCli([...args, '--download'], { env });
    assert.equal(got.code, 0, got.stderr);
    const status = statusOf(got.events)!;
    assert.equal(status.cached, true);
    assert.equal(path.dirname(status.file), path.join(dir, 'cache', 'weights'));
    assert.ok(got.events.some((e) => e.type === 'progress' && e.unit === 'byte'), 'the download reports its bytes');
    const human = await runCli(args.filter((a) => a !== '--json'), { env });
    assert.match(human.stdout, /^cached \(\d+(\.\d)? [KM]iB\): .*0\.35_96_no_top\.h5/);
    assert.deepEqual(server.requestsFor(FILE_035_96).map((r) => r.method), ['HEAD', 'GET'], 'a HEAD to check, a GET to download, nothing for the cached file');
  });

  it('a new run whose weights cannot be had fails before it writes anything: no run folder is left behind', async () => {
    const { prepared } = await preparedDemoDataset(dir, 4, 48);
    const offline = { LESION_LAB_CACHE: path.join(dir, 'empty-cache'), LESION_LAB_WEIGHTS_BASE_URL: `http://127.0.0.1:${closedPort}/` };
    const run = path.join(dir, 'runs', 'imagenet');
    const r = await runCli(['train', '--prepared', prepared, '--run', run, '--model', 'mobilenetv2', '--alpha', '0.35', '--size', '96', '--weights', 'imagenet', '--epochs', '1', '--json'], { env: offline });
    assert.equal(r.code, 1);
    const error = r.events.find((e): e is Extract<BackendEvent, { type: 'error' }> => e.type === 'error');
    assert.match(error?.message ?? '', /could not be reached \(ECONNREFUSED\).* download .* yourself and give its path to --weights/);
    assert.doesNotMatch(error!.message, /\bor or\b/);
    await assert.rejects(fs.stat(run), 'no run folder');
    const missing = path.join(dir, 'runs', 'missing-file');
    const m = await runCli(['train', '--prepared', prepared, '--run', missing, '--model', 'mobilenetv2', '--alpha', '0.35', '--size', '96', '--weights', path.join(dir, 'nope.h5'), '--epochs', '1', '--json']);
    assert.equal(m.code, 1);
    assert.match(JSON.stringify(m.events), /The weights file .*nope\.h5 does not exist/);
    await assert.rejects(fs.stat(missing), 'no run folder');
  });
});
