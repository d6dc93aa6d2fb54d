// node predict-onnx.mjs EXPORT_FOLDER IMAGE   (npm install onnxruntime-node sharp)
import fs from 'node:fs';
import ort from 'onnxruntime-node';
import sharp from 'sharp';

const [folder, image] = process.argv.slice(2);
const meta = JSON.parse(fs.readFileSync(`${folder}/labels.json`, 'utf8'));
const { input: { size }, preprocessing: p } = meta;
const rgb = await sharp(image).resize(size, size, { fit: 'fill' }).removeAlpha().raw().toBuffer();
const x = new Float32Array(rgb.length); // NHWC; caffe: BGR minus the mean, tf: x / 127.5 - 1
for (let i = 0; i < rgb.length; i += 3)
  for (let c = 0; c < 3; c++) x[i + c] = p.mode === 'caffe' ? rgb[i + 2 - c] - p.mean[c] : rgb[i + c] * p.scale + p.offset;
const session = await ort.InferenceSession.create(`${folder}/model.onnx`);
const { probabilities } = await session.run({ input: new ort.Tensor('float32', x, [1, size, size, 3]) });
meta.classes.forEach((name, k) => console.log(name, probabilities.data[k].toFixed(4)));
