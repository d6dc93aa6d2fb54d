import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { BackendEvent, WeightsStatus } from '../../../src/shared/protocol/backend';
import { UserError } from '../../../src/backend/errors';
import { checkImagenetWeights } from '../../../src/backend/models/weightsStatus';
import { probeUrl } from '../../../src/backend/net/httpDownload';
import { kerasMobileNetV2Table } from '../../fixtures/keras/generate';
import { TestHttpServer } from '../../helpers/httpServer';
import { writeKerasH5 } from './kerasH5Fixture';

const FILE_035_96 = '/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5';
const FILE_05_96 = '/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_96_no_top.h5';

function context(): { events: BackendEvent[]; ctx: { emit: (e: BackendEvent) => void; signal: AbortSignal } } {
  const events: BackendEvent[] = [];
  return { events, ctx: { emit: (e) => events.push(e), signal: new AbortController().signal } };
}

describe('models/weightsStatus: are the ImageNet weights here, or can they be had?', function () {
  this.timeout(60_000);
  let dir: string;
  let server: TestHttpServer;
  let weights: Buffer;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-weights-status-'));
    const h5 = path.join(dir, 'fixture.h5');
    await writeKerasH5(h5, kerasMobileNetV2Table(0.35).layers);
    weights = await fs.readFile(h5);
    server = await TestHttpServer.start({ [FILE_035_96]: weights, [FILE_05_96]: 'an HTML error page, not weights' });
  });
  after(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('not cached: one HEAD request says they can be downloaded, and how big they are; nothing is written', async () => {
    const cache = path.join(dir, 'cache-check');
    const { events, ctx } = context();
    const status = await checkImagenetWeights({ model: 'mobilenetv2', alpha: 0.35, size: 96, download: false, baseUrl: server.baseUrl }, ctx, cache);
    assert.equal(status.cached, false);
    assert.equal(status.bytes, weights.length);
    assert.equal(status.download?.reachable, true);
    assert.ok(status.download!.seconds < 4, `answered within the timeout (${status.download!.seconds} s)`);
    assert.deepEqual(server.requestsFor(FILE_035_96).map((r) => r.method), ['HEAD']);
    assert.deepEqual(events.filter((e) => e.type === 'weights/didCheck').map((e) => (e as { status: WeightsStatus }).status), [status]);
    await assert.rejects(fs.stat(cache), 'the check writes nothing');
  });

  it('with download: fetched with byte progress, checked by loading every array into the backbone, then cached (no network after)', async () => {
    const cache = path.join(dir, 'cache-download');
    const { events, ctx } = context();
    const status = await checkImagenetWeights({ model: 'mobilenetv2', alpha: 0.35, size: 96, download: true, baseUrl: server.baseUrl }, ctx, cache);
    assert.equal(status.cached, true);
    assert.equal(status.bytes, weights.length);
    assert.match(status.verified ?? '', /^\d+ arrays in 104 layers load into mobilenetv2$/);
    assert.deepEqual(await fs.readFile(status.file), weights);
    const progress = events.filter((e): e is Extract<BackendEvent, { type: 'progress' }> => e.type === 'progress');
    assert.ok(progress.length > 0 && progress.every((p) => p.unit === 'byte' && p.total === weights.length), JSON.stringify(progress.slice(0, 2)));
    assert.equal(progress.at(-1)!.done, weights.length);
    const requests = server.requests.length;
    const again = await checkImagenetWeights({ model: 'mobilenetv2', alpha: 0.35, size: 96, download: false, baseUrl: server.baseUrl }, context().ctx, cache);
    assert.equal(again.cached, true);
    assert.equal(again.file, status.file);
    assert.equal(server.requests.length, requests, 'a cached file needs no request');
  });

  it('a download that is not a weights file for the backbone is refused and not kept', async () => {
    const cache = path.join(dir, 'cache-bad');
    await assert.rejects(
      checkImagenetWeights({ model: 'mobilenetv2', alpha: 0.5, size: 96, download: true, baseUrl: server.baseUrl }, context().ctx, cache),
      (e: unknown) => e instanceof UserError && /neither a Keras weights \.h5 file nor a TF\.js model\.json/.test(e.message),
    );
    assert.deepEqual(await fs.readdir(cache), [], 'nothing left in the cache');
  });

  it('a file the server does not have is "not downloadable", with the HTTP status', async () => {
    const status = await checkImagenetWeights({ model: 'mobilenetv2', alpha: 0.75, size: 128, download: false, baseUrl: server.baseUrl }, context().ctx, path.join(dir, 'cache-404'));
    assert.equal(status.download?.reachable, false);
    assert.match(status.download?.reason ?? '', /^the server answered HTTP 404/);
  });

  describe('probeUrl', () => {
    it('a host that does not resolve: "could not look up", quickly', async () => {
      const probe = await probeUrl('http://keras-weights.invalid/x.h5', { timeoutMs: 4000 });
      assert.equal(probe.reachable, false);
      assert.match(probe.reason ?? '', /^could not look up keras-weights\.invalid \((ENOTFOUND|EAI_AGAIN)\)/);
    });

    it('a port nobody listens on: "could not be reached"', async () => {
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as AddressInfo;
      await new Promise((resolve) => closed.close(resolve));
      const probe = await probeUrl(`http://127.0.0.1:${port}/x.h5`, { timeoutMs: 4000 });
      assert.equal(probe.reachable, false);
      assert.match(probe.reason ?? '', /could not be reached \(ECONNREFUSED\)/);
    });

    it('a server that never answers: gives up at the timeout and says so', async () => {
      const silent = http.createServer(() => undefined); // accepts, never responds
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const probe = await probeUrl(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/x.h5`, { timeoutMs: 300 });
        assert.equal(probe.reachable, false);
        assert.match(probe.reason ?? '', /did not answer within 0\.3 s$/);
        assert.ok(probe.seconds >= 0.29 && probe.seconds < 3, `gave up at the timeout (${probe.seconds} s)`);
      } finally {
        silent.closeAllConnections();
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    it('follows a redirect to the file', async () => {
      server.redirects.set('/moved.h5', FILE_035_96);
      const probe = await probeUrl(server.url('/moved.h5'));
      assert.deepEqual([probe.reachable, probe.bytes], [true, weights.length]);
    });
  });
});
