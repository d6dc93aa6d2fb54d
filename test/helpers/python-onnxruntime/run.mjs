// The Node half of the onnxruntime stand-in: runs MODEL on the float32 feeds in DIR, prints the outputs as JSON.
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';

const [model, dir, specJson] = process.argv.slice(2);
try {
  const feeds = {};
  for (const [name, dims] of Object.entries(JSON.parse(specJson))) {
    const buf = fs.readFileSync(path.join(dir, `${name}.f32`));
    feeds[name] = new ort.Tensor('float32', new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), dims);
  }
  const session = await ort.InferenceSession.create(model);
  const results = await session.run(feeds);
  const out = {};
  for (const name of session.outputNames) out[name] = { dims: results[name].dims, data: Array.from(results[name].data) };
  process.stdout.write(JSON.stringify(out));
} catch (err) {
  process.stderr.write(String(err.stack || err));
  process.exit(1);
}
