/**
 * Real files for the dataset tests: small JPEGs made with sharp, metadata files in each layout's
 * format, zips made with yazl (patched byte-wise where yazl refuses to write a hostile name).
 */
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import yazl from 'yazl';
import { createRng } from '../../../src/shared/random';
import type { BackendEvent } from '../../../src/shared/protocol/backend';
import type { JobContext } from '../../../src/backend/job';

export async function makeTempDir(prefix = 'lesion-lab-dataset-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** A small, real JPEG whose colour depends on `seed`. */
export async function jpegBytes(seed: number, width = 24, height = 18): Promise<Buffer> {
  const r = (seed * 53) % 256;
  const g = (seed * 97) % 256;
  const b = (seed * 193) % 256;
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
    .jpeg({ quality: 80 })
    .toBuffer();
}

export async function writeJpeg(file: string, seed: number): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, await jpegBytes(seed));
}

export interface FakeImage {
  lesionId: string;
  imageId: string;
  dx: string;
}

/** n images in lesions of one or two images, over the given classes. */
export function fakeImages(n: number, classes: readonly string[] = ['akiec', 'bcc', 'bkl', 'df', 'mel', 'nv', 'vasc']): FakeImage[] {
  const images: FakeImage[] = [];
  let lesion = 0;
  for (let i = 0; i < n; i++) {
    if (i % 3 !== 1) lesion++;
    images.push({ lesionId: `HAM_${String(lesion).padStart(7, '0')}`, imageId: `ISIC_${String(24306 + i).padStart(7, '0')}`, dx: classes[lesion % classes.length]! });
  }
  return images;
}

export interface HamCsvOptions {
  columns?: string[];
  delimiter?: string;
  eol?: string;
  bom?: boolean;
  quoteAll?: boolean;
}

export function hamCsv(images: readonly FakeImage[], o: HamCsvOptions = {}): string {
  const columns = o.columns ?? ['lesion_id', 'image_id', 'dx', 'dx_type', 'age', 'sex', 'localization'];
  const d = o.delimiter ?? ',';
  const eol = o.eol ?? '\n';
  const q = (s: string): string => (o.quoteAll ? `"${s.replace(/"/g, '""')}"` : s);
  const value = (img: FakeImage, col: string, i: number): string => {
    switch (col) {
      case 'lesion_id':
        return img.lesionId;
      case 'image_id':
        return img.imageId;
      case 'dx':
        return img.dx;
      case 'dx_type':
        return 'histo';
      case 'age':
        return String(30 + (i % 50));
      case 'sex':
        return i % 2 ? 'male' : 'female';
      case 'localization':
        return 'lower extremity';
      default:
        return `extra ${i}`;
    }
  };
  const lines = [columns.map(q).join(d), ...images.map((img, i) => columns.map((c) => q(value(img, c, i))).join(d))];
  return (o.bom ? '\ufeff' : '') + lines.join(eol) + eol;
}

/** The Kaggle layout: metadata + images alternating between two part folders. */
export async function writeKaggle(
  root: string,
  images: readonly FakeImage[],
  o: HamCsvOptions & { metadataName?: string; parts?: [string, string] } = {},
): Promise<void> {
  const [p1, p2] = o.parts ?? ['HAM10000_images_part_1', 'HAM10000_images_part_2'];
  await fs.mkdir(root, { recursive: true });
  await fs.writeFile(path.join(root, o.metadataName ?? 'HAM10000_metadata.csv'), hamCsv(images, o));
  await Promise.all(images.map((img, i) => writeJpeg(path.join(root, i % 2 ? p2 : p1, `${img.imageId}.jpg`), i)));
}

/** A zip of `entries`; `rename` swaps an entry name byte-for-byte afterwards (same length), for names yazl refuses. */
export async function writeZip(
  zipPath: string,
  entries: { name: string; data?: Buffer | string; mode?: number; directory?: boolean }[],
  rename: Record<string, string> = {},
): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    if (e.directory) zip.addEmptyDirectory(e.name);
    else zip.addBuffer(typeof e.data === 'string' ? Buffer.from(e.data) : (e.data ?? Buffer.alloc(0)), e.name, e.mode ? { mode: e.mode } : {});
  }
  zip.end();
  await fs.mkdir(path.dirname(zipPath), { recursive: true });
  await new Promise<void>((resolve, reject) => {
    zip.outputStream.pipe(createWriteStream(zipPath)).on('close', resolve).on('error', reject);
  });
  if (Object.keys(rename).length === 0) return;
  let bytes = await fs.readFile(zipPath);
  for (const [from, to] of Object.entries(rename)) {
    if (from.length !== to.length) throw new Error('rename must keep the length');
    const a = Buffer.from(from);
    const b = Buffer.from(to);
    let at = bytes.indexOf(a);
    if (at < 0) throw new Error(`${from} not in zip`);
    while (at >= 0) {
      b.copy(bytes, at);
      at = bytes.indexOf(a, at + 1);
    }
  }
  bytes = Buffer.from(bytes);
  await fs.writeFile(zipPath, bytes);
}

/** A fingerprint of every path, size, mode and modification time under `root`: changes if anything is written. */
export async function treeFingerprint(root: string): Promise<string> {
  const lines: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, e.name);
      const st = await fs.lstat(full);
      // nlink and ctime are left out: hard-linking an original changes them without touching it.
      lines.push(`${path.relative(root, full)}\t${st.size}\t${st.mtimeMs}\t${st.mode}`);
      if (e.isDirectory()) await walk(full);
    }
  };
  const st = await fs.stat(root);
  lines.push(`.\t${st.mtimeMs}`);
  await walk(root);
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** A JobContext that records events. */
export function recordingContext(signal: AbortSignal = new AbortController().signal): JobContext & { events: BackendEvent[] } {
  const events: BackendEvent[] = [];
  return { events, signal, emit: (e) => events.push(e) };
}

/** A lesion-like RGB image: a dark irregular blob with mottled texture on skin-coloured background. */
export function lesionRgb(width: number, height: number, seed: number): Buffer {
  const rng = createRng(seed);
  const cx = width * (0.3 + 0.4 * rng());
  const cy = height * (0.3 + 0.4 * rng());
  const rx = width * (0.15 + 0.2 * rng());
  const ry = height * (0.15 + 0.2 * rng());
  const wobble = Array.from({ length: 6 }, () => 0.25 * rng());
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const a = Math.atan2(y - cy, x - cx);
      const r = Math.hypot((x - cx) / rx, (y - cy) / ry) / (1 + wobble.reduce((s, w, k) => s + w * Math.sin((k + 2) * a + k), 0));
      const inside = r < 1;
      const mottle = 20 * Math.sin(x / (5 + seed % 7)) * Math.cos(y / (4 + seed % 5));
      const o = (y * width + x) * 3;
      rgb[o] = inside ? 90 + mottle : 225 - 30 * (y / height);
      rgb[o + 1] = inside ? 55 + mottle / 2 : 180 - 20 * (x / width);
      rgb[o + 2] = inside ? 40 : 160;
    }
  }
  return rgb;
}

/**
 * A HAM10000-layout folder of lesion-like images (one per FakeImage, each its own picture) and, for each of
 * `copies`, the image `of` again — resized to 60% and saved at quality 70, as another copy of a dataset holds
 * it — under a new image id and lesion id: a near-duplicate across lesions.
 */
export async function writeLesionKaggle(root: string, images: readonly FakeImage[], copies: readonly { of: number; imageId: string; lesionId: string }[] = []): Promise<FakeImage[]> {
  const [w, h] = [120, 90];
  const part = path.join(root, 'HAM10000_images_part_1');
  await fs.mkdir(part, { recursive: true });
  const encoded = await Promise.all(images.map((_, i) => sharp(lesionRgb(w, h, 1000 + i), { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toBuffer()));
  await Promise.all(images.map((img, i) => fs.writeFile(path.join(part, `${img.imageId}.jpg`), encoded[i]!)));
  const all = [...images];
  for (const c of copies) {
    const copy = await sharp(encoded[c.of]!).resize(Math.round(w * 0.6)).jpeg({ quality: 70 }).toBuffer();
    await fs.writeFile(path.join(part, `${c.imageId}.jpg`), copy);
    all.push({ imageId: c.imageId, lesionId: c.lesionId, dx: images[c.of]!.dx });
  }
  await fs.writeFile(path.join(root, 'HAM10000_metadata.csv'), hamCsv(all));
  return all;
}
