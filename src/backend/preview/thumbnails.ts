/** Small JPEG thumbnails as data URIs: what the Samples and Evaluation panels show, made by sharp. */
import sharp from 'sharp';
import { throwIfCancelled } from '../errors';
import type { JobContext } from '../job';

export async function jpegDataUri(input: string | Buffer | Uint8Array, size: number, raw?: { width: number; height: number }): Promise<string> {
  const img = raw ? sharp(input as Uint8Array, { raw: { ...raw, channels: 3 } }) : sharp(input);
  const jpeg = await img.resize(size, size, { fit: 'inside', withoutEnlargement: false }).jpeg({ quality: 82 }).toBuffer();
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}

export async function renderThumbnails(options: { files: string[]; size: number }, ctx: JobContext): Promise<void> {
  const items: { file: string; dataUri: string }[] = [];
  // A handful at a time: sharp decodes off the main thread, and a page is at most a few dozen images.
  const queue = [...options.files.entries()];
  const results = new Array<{ file: string; dataUri: string } | undefined>(options.files.length);
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        throwIfCancelled(ctx.signal);
        const [i, file] = next;
        try {
          results[i] = { file, dataUri: await jpegDataUri(file, options.size) };
        } catch {
          results[i] = undefined; // an unreadable file shows as missing, not as a failed page
        }
      }
    }),
  );
  for (const r of results) if (r) items.push(r);
  ctx.emit({ type: 'thumbnails/didRender', items });
}
