/**
 * Writes a small prepared folder as `lesion-lab prepare` does: real JPEGs (sharp) under
 * train/<dx>/ and val/<dx>/, and a version-1 manifest.json listing them.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

export interface FixtureClass {
  train: number;
  val: number;
}

export interface FixtureImage {
  imageId: string;
  lesionId: string;
  dx: string;
  split: 'train' | 'val';
  source: string;
  file: string;
}

/** A smooth, asymmetric, class-dependent picture with no two images alike. */
async function writeJpeg(file: string, width: number, height: number, seed: number): Promise<void> {
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      px[i] = (40 + ((x * 200) / width + seed * 17)) & 255;
      px[i + 1] = (60 + (y * 150) / height + ((x * y + seed * 31) % 40)) & 255;
      px[i + 2] = (90 + seed * 13 + (x > width / 3 && y < height / 2 ? 80 : 0)) & 255;
    }
  }
  await sharp(px, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toFile(file);
}

export async function makePreparedFolder(
  dir: string,
  classes: Record<string, FixtureClass>,
  size: { width: number; height: number } = { width: 80, height: 60 },
): Promise<FixtureImage[]> {
  const images: FixtureImage[] = [];
  let n = 0;
  for (const [dx, counts] of Object.entries(classes)) {
    for (const split of ['train', 'val'] as const) {
      await fs.mkdir(path.join(dir, split, dx), { recursive: true });
      for (let i = 0; i < counts[split]; i++) {
        n++;
        const imageId = `ISIC_${String(24000 + n).padStart(7, '0')}`;
        const file = `${split}/${dx}/${imageId}.jpg`;
        await writeJpeg(path.join(dir, file), size.width, size.height, n);
        images.push({ imageId, lesionId: `HAM_${String(n).padStart(7, '0')}`, dx, split, source: path.join(dir, 'original', `${imageId}.jpg`), file });
      }
    }
  }
  const count = (dx: string, split: 'train' | 'val'): { images: number; lesions: number } => {
    const k = images.filter((i) => i.dx === dx && i.split === split).length;
    return { images: k, lesions: k };
  };
  const manifest = {
    version: 1,
    summary: {
      sourcePath: path.join(dir, 'original'),
      layout: 'kaggle',
      split: 'lesion',
      valFraction: 0.2,
      seed: 101,
      link: 'copy',
      classes: Object.keys(classes).map((name) => ({
        name,
        all: { images: count(name, 'train').images + count(name, 'val').images, lesions: count(name, 'train').lesions + count(name, 'val').lesions },
        train: count(name, 'train'),
        val: count(name, 'val'),
      })),
      excludedCount: 0,
      excluded: [],
      preparedAt: new Date().toISOString(),
    },
    images,
    excluded: [],
    materialisedWith: 'copy',
    notes: [],
  };
  await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return images;
}

/** Every file under `dir`, relative, sorted. */
export async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  await walk(dir);
  return out.sort();
}
