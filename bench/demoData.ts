/**
 * demo-data speed: painting alone, JPEG encoding alone, and the whole command (paint + encode +
 * write, several images in flight) at HAM10000's 600×450 and at 64×48.
 *   npx tsx bench/demoData.ts [images at 600px, default 300] [images at 64px, default 10015]
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { writeDemoData } from '../src/backend/demo/demoData';
import { designLesion, designView, paintLesionImage } from '../src/backend/demo/demoPainter';
import { demoClassCounts, planDemoDataset } from '../src/backend/demo/demoPlan';
import { createRng } from '../src/shared/random';

const big = Number(process.argv[2] ?? 300);
const small = Number(process.argv[3] ?? 10015);

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};

function paintOnly(width: number, n: number): { msPerImage: number; cpuMsPerImage: number; sample: Uint8ClampedArray } {
  const plan = planDemoDataset(demoClassCounts({ total: Math.max(21, n) }), 1);
  let sample: Uint8ClampedArray = new Uint8ClampedArray(0);
  const t = performance.now();
  const cpu = process.cpuUsage();
  for (const im of plan.images.slice(0, n)) {
    sample = paintLesionImage(designLesion(im.lesion.dx, createRng(im.lesion.seed)), designView(createRng(im.seed)), width, Math.round((width * 3) / 4));
  }
  return { msPerImage: (performance.now() - t) / n, cpuMsPerImage: cpuMs(cpu) / n, sample };
}

async function encodeOnly(pixels: Uint8ClampedArray, width: number, n: number, inFlight: number): Promise<number> {
  const height = Math.round((width * 3) / 4);
  const t = performance.now();
  for (let i = 0; i < n; i += inFlight) {
    await Promise.all(Array.from({ length: Math.min(inFlight, n - i) }, () => sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer()));
  }
  return (performance.now() - t) / n;
}

async function whole(options: { total: number; size: number }): Promise<{ seconds: number; perSecond: number; cpuMsPerImage: number }> {
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-lab-bench-demo-'));
  try {
    const t = performance.now();
    const cpu = process.cpuUsage();
    await writeDemoData({ out, total: options.total, size: options.size, seed: 1 }, { emit: () => undefined, signal: new AbortController().signal });
    const seconds = (performance.now() - t) / 1000;
    return { seconds, perSecond: options.total / seconds, cpuMsPerImage: cpuMs(cpu) / options.total };
  } finally {
    await fs.rm(out, { recursive: true, force: true });
  }
}

(async () => {
  console.log(`cores: ${os.availableParallelism()}, load average now: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  paintOnly(600, 20); // warm up the JIT
  const p600 = paintOnly(600, 100);
  const p64 = paintOnly(64, 2000);
  // CPU time as well as wall time: on a shared machine the wall time says more about the neighbours.
  console.log(`paint only (one thread):  600×450 ${p600.msPerImage.toFixed(2)} ms/image wall, ${p600.cpuMsPerImage.toFixed(2)} ms CPU   64×48 ${p64.msPerImage.toFixed(3)} ms wall, ${p64.cpuMsPerImage.toFixed(3)} ms CPU`);
  const e1 = await encodeOnly(p600.sample, 600, 100, 1);
  const e4 = await encodeOnly(p600.sample, 600, 200, 4);
  console.log(`JPEG encode 600×450 q90:  ${e1.toFixed(2)} ms/image one at a time, ${e4.toFixed(2)} ms/image with 4 in flight`);
  const w600 = await whole({ total: big, size: 600 });
  console.log(`demo-data --total ${big} --size 600:   ${w600.seconds.toFixed(1)} s, ${w600.perSecond.toFixed(0)} images/s, ${w600.cpuMsPerImage.toFixed(2)} ms CPU/image (all threads)`);
  const w64 = await whole({ total: small, size: 64 });
  console.log(`demo-data --total ${small} --size 64:  ${w64.seconds.toFixed(1)} s, ${w64.perSecond.toFixed(0)} images/s, ${w64.cpuMsPerImage.toFixed(3)} ms CPU/image (all threads)`);
  console.log(`load average after: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
})();
