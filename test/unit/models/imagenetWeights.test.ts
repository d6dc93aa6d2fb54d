import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { CancelledError, UserError } from '../../../src/backend/errors';
import { buildBackbone } from '../../../src/backend/models/backbone';
import { defaultWeightsCacheDir, imagenetWeightsSpec, md5File, resolveImagenetWeights } from '../../../src/backend/models/imagenetWeights';
import { loadKerasH5Weights } from '../../../src/backend/models/weights';
import { kerasMobileNetV2Table } from '../../fixtures/keras/generate';
import { writeKerasH5 } from './kerasH5Fixture';

describe('models/imagenetWeights: which file, where cached, how fetched', function () {
  this.timeout(60_000);

  it('names the official Keras files and URLs', () => {
    const r152 = imagenetWeightsSpec('resnet152', undefined, 224);
    assert.equal(r152.url, 'https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5');
    assert.equal(r152.md5, 'ee4c566cf9a93f14d82f913c2dc6dd0c');
    assert.equal(imagenetWeightsSpec('resnet50', undefined, 96).fileName, 'resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5');
    assert.equal(
      imagenetWeightsSpec('mobilenetv2', 1.0, 224).url,
      'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5',
    );
    assert.equal(imagenetWeightsSpec('mobilenetv2', undefined, 224).fileName, 'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5');
    assert.equal(imagenetWeightsSpec('mobilenetv2', 0.5, 96).fileName, 'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_96_no_top.h5');
    assert.equal(imagenetWeightsSpec('mobilenetv2', 0.35, 100).fileName, 'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5');
    assert.equal(imagenetWeightsSpec('mobilenetv2', 1.4, 96).fileName, 'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.4_224_no_top.h5');
    assert.equal(imagenetWeightsSpec('mobilenetv2', 0.75, 160).md5, undefined, 'Keras records no hash for MobileNetV2');
    assert.throws(() => imagenetWeightsSpec('mobilenetv2', 0.6, 224), (e: unknown) => e instanceof UserError && /--weights none/.test(e.message));
  });

  it('caches under LESION_LAB_CACHE, else ~/.cache/lesion-lab', () => {
    assert.equal(defaultWeightsCacheDir({ LESION_LAB_CACHE: '/srv/cache' }), path.join('/srv/cache', 'weights'));
    assert.equal(defaultWeightsCacheDir({}), path.join(os.homedir(), '.cache', 'lesion-lab', 'weights'));
  });

  describe('with a local mirror', () => {
    let dir: string;
    let server: http.Server;
    let baseUrl: string;
    const files = new Map<string, Buffer>();
    const requests: string[] = [];

    before(async () => {
      await tf.setBackend('cpu');
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-imagenet-'));
      const h5 = path.join(dir, 'fixture.h5');
      await writeKerasH5(h5, kerasMobileNetV2Table(0.35).layers);
      files.set('/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5', await fs.readFile(h5));
      files.set('/resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5', Buffer.from('not the real ResNet50 weights'));
      server = http.createServer((req, res) => {
        requests.push(req.url ?? '');
        const body = files.get(req.url ?? '');
        if (!body) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' }).end(body);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    after(async () => {
      await new Promise((resolve) => server.close(resolve));
      await fs.rm(dir, { recursive: true, force: true });
    });

    it('downloads once, then uses the verified cached copy offline; the file loads into the model', async () => {
      const cache = path.join(dir, 'cache');
      const seen: number[] = [];
      const before = requests.length;
      const file = await resolveImagenetWeights('mobilenetv2', 0.35, 96, cache, new AbortController().signal, (done) => seen.push(done), { baseUrl });
      assert.equal(path.dirname(file), cache);
      assert.equal(requests.length, before + 1);
      assert.ok(seen.length > 0 && seen.at(-1)! > 0, 'progress was reported');
      const again = await resolveImagenetWeights('mobilenetv2', 0.35, 96, cache, new AbortController().signal, undefined, { baseUrl });
      assert.equal(again, file);
      assert.equal(requests.length, before + 1, 'no second request');
      const model = buildBackbone('mobilenetv2', { inputSize: 96, alpha: 0.35 });
      const report = await loadKerasH5Weights(model, file);
      assert.equal(report.layersLoaded, 104);
      model.dispose();
    });

    it('deletes a download whose MD5 differs from the one Keras publishes', async () => {
      const cache = path.join(dir, 'cache-bad');
      await assert.rejects(
        resolveImagenetWeights('resnet50', undefined, 224, cache, new AbortController().signal, undefined, { baseUrl }),
        (e: unknown) => e instanceof UserError && /4d473c1dd8becc155b73f8504c6f6626/.test(e.message),
      );
      assert.deepEqual((await fs.readdir(cache)).filter((n) => n.endsWith('.h5')), []);
    });

    it('a missing file on the server is a UserError, a cancelled signal a CancelledError', async () => {
      const cache = path.join(dir, 'cache-missing');
      await assert.rejects(
        resolveImagenetWeights('mobilenetv2', 1.0, 224, cache, new AbortController().signal, undefined, { baseUrl }),
        UserError,
      );
      const aborted = new AbortController();
      aborted.abort();
      await assert.rejects(resolveImagenetWeights('mobilenetv2', 0.75, 224, cache, aborted.signal, undefined, { baseUrl }), CancelledError);
    });

    it('md5File hashes a file', async () => {
      const f = path.join(dir, 'abc.txt');
      await fs.writeFile(f, 'abc');
      assert.equal(await md5File(f), '900150983cd24fb0d6963f7d28e17f72');
    });
  });
});
