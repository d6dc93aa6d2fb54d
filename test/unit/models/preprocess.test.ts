import assert from 'node:assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { CAFFE_BGR_MEAN, preprocessFor, preprocessImages, preprocessPixelsInto } from '../../../src/backend/models/preprocess';

// One known pixel, RGB (10, 20, 200), worked by hand from Keras' imagenet_utils._preprocess_numpy_input.
const PIXEL = [10, 20, 200];
const CAFFE = [200 - 103.939, 20 - 116.779, 10 - 123.68]; // BGR order, mean-subtracted: 96.061, -96.779, -113.68
const TF_MODE = [10 / 127.5 - 1, 20 / 127.5 - 1, 200 / 127.5 - 1]; // -0.92157, -0.84314, 0.56863

function assertClose(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  expected.forEach((e, i) => assert.ok(Math.abs((actual[i] as number) - e) < 1e-4, `${what}[${i}]: ${actual[i]} vs ${e}`));
}

describe('models/preprocess: ImageNet input preprocessing per backbone', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('describes caffe mode for ResNets and tf mode for MobileNetV2', () => {
    for (const name of ['resnet50', 'resnet101', 'resnet152'] as const) {
      assert.deepEqual(preprocessFor(name), { mode: 'caffe', channelOrder: 'BGR', mean: CAFFE_BGR_MEAN });
    }
    assert.deepEqual(CAFFE_BGR_MEAN, [103.939, 116.779, 123.68]);
    const m = preprocessFor('mobilenetv2');
    assert.equal(m.mode, 'tf');
  });

  it('ResNet: RGB→BGR then subtract the BGR mean, on a uint8 batch tensor', () => {
    const batch = tf.tensor4d(new Uint8Array([...PIXEL, 0, 0, 0, 255, 255, 255, ...PIXEL]), [2, 1, 2, 3], 'int32');
    const out = preprocessImages('resnet152', batch);
    assert.equal(out.dtype, 'float32');
    assert.deepEqual(out.shape, [2, 1, 2, 3]);
    const v = out.dataSync();
    assertClose(v.slice(0, 3), CAFFE, 'pixel 0');
    assertClose(v.slice(3, 6), [-103.939, -116.779, -123.68], 'black');
    assertClose(v.slice(6, 9), [255 - 103.939, 255 - 116.779, 255 - 123.68], 'white');
    assertClose(v.slice(9, 12), CAFFE, 'pixel 3');
    tf.dispose([batch, out]);
  });

  it('MobileNetV2: x / 127.5 − 1 on a float tensor, channels untouched', () => {
    const img = tf.tensor3d([...PIXEL, 0, 127.5, 255], [1, 2, 3], 'float32');
    const out = preprocessImages('mobilenetv2', img);
    assertClose(out.dataSync(), [...TF_MODE, -1, 0, 1], 'tf mode');
    tf.dispose([img, out]);
  });

  it('the buffer version gives the same numbers and writes at an offset', () => {
    const out = new Float32Array(9).fill(42);
    preprocessPixelsInto(preprocessFor('resnet50'), new Uint8Array(PIXEL), out, 3);
    assertClose(out, [42, 42, 42, ...CAFFE, 42, 42, 42], 'caffe buffer');
    const out2 = new Float32Array(3);
    preprocessPixelsInto(preprocessFor('mobilenetv2'), PIXEL, out2);
    assertClose(out2, TF_MODE, 'tf buffer');
    assert.throws(() => preprocessPixelsInto(preprocessFor('mobilenetv2'), [1, 2], out2));
  });

  it('does not leak tensors', () => {
    const x = tf.zeros([1, 4, 4, 3]);
    const before = tf.memory().numTensors;
    const y = preprocessImages('resnet50', x);
    assert.equal(tf.memory().numTensors, before + 1);
    tf.dispose([x, y]);
  });
});
