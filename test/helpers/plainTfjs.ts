/**
 * Loads a TF.js export the way someone without Lesion Lab would: a fresh Node process that requires
 * only `@tensorflow/tfjs`, fetches `model.json` over HTTP from a local server (as a web page would)
 * and predicts. Nothing from Lesion Lab is loaded in that process, so a custom layer class or a
 * non-standard file would make it fail.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const REPO = path.resolve(__dirname, '../..');

const SCRIPT = `
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const tf = require('@tensorflow/tfjs');
const [dir, inputFile, shapeJson] = process.argv.slice(1);
const server = http.createServer((req, res) => {
  const file = path.join(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname));
  if (!file.startsWith(dir) || !fs.existsSync(file)) { res.writeHead(404).end(); return; }
  res.writeHead(200, { 'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
server.listen(0, '127.0.0.1', async () => {
  try {
    const model = await tf.loadLayersModel('http://127.0.0.1:' + server.address().port + '/model.json');
    const buf = fs.readFileSync(inputFile);
    const x = tf.tensor(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), JSON.parse(shapeJson));
    const y = model.predict(x);
    process.stdout.write(JSON.stringify({ backend: tf.getBackend(), classes: model.layers.map((l) => l.getClassName()), probabilities: Array.from(y.dataSync()) }));
  } catch (err) {
    process.stderr.write(String(err && err.stack || err));
    process.exitCode = 1;
  } finally {
    server.close();
  }
});
`;

export interface PlainTfjsResult {
  backend: string;
  /** The layer classes the stock library built. */
  classes: string[];
  probabilities: number[];
}

export async function predictWithPlainTfjs(exportDir: string, input: Float32Array, shape: number[]): Promise<PlainTfjsResult> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-plain-tfjs-'));
  try {
    const inputFile = path.join(tmp, 'input.f32');
    await fs.writeFile(inputFile, Buffer.from(input.buffer, input.byteOffset, input.byteLength));
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['-e', SCRIPT, path.resolve(exportDir), inputFile, JSON.stringify(shape)], { cwd: REPO, maxBuffer: 64 * 1024 * 1024 }, (err, out, stderr) =>
        err ? reject(new Error(`plain @tensorflow/tfjs could not load ${exportDir}:\n${stderr || err.message}`)) : resolve(out),
      );
    });
    return JSON.parse(stdout) as PlainTfjsResult;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
