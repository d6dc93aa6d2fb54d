import { promises as fs } from 'node:fs';
import path from 'node:path';

/** An image file as a data URI, for a webview that may load nothing from disk. */
export async function dataUri(file: string): Promise<string> {
  const mime = path.extname(file).toLowerCase() === '.png' ? 'image/png' : 'image/jpeg';
  return `data:${mime};base64,${(await fs.readFile(file)).toString('base64')}`;
}
