/**
 * Lesion Lab's version and source revision, for a run's config.json. esbuild's `define` puts both in at build
 * time (scripts/build.mjs), so a packaged build knows the commit it was built from; an unbundled run (tests via
 * tsx) falls back to the package version placeholder and asks git, when the code lies in a checkout.
 */
import { execFileSync } from 'node:child_process';

declare const __LESION_LAB_VERSION__: string | undefined;
declare const __LESION_LAB_REVISION__: string | undefined;

export const BACKEND_VERSION: string = typeof __LESION_LAB_VERSION__ === 'string' ? __LESION_LAB_VERSION__ : '0.0.0-dev';

let revision: string | null | undefined;

/** The git commit the code was built from (`-dirty` with uncommitted changes to tracked files), or undefined when unknown. */
export function sourceRevision(): string | undefined {
  // '' means the build knew it was not made in a checkout; undefined, that it did not say (unbundled, or --watch).
  if (revision === undefined) revision = typeof __LESION_LAB_REVISION__ === 'string' ? __LESION_LAB_REVISION__ || null : gitRevision(__dirname);
  return revision ?? undefined;
}

/** `git rev-parse HEAD` in `dir`, plus `-dirty` when tracked files differ from it; null outside a checkout or without git. */
export function gitRevision(dir: string): string | null {
  try {
    const run = (args: string[]): string => execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
    const head = run(['rev-parse', 'HEAD']);
    if (!/^[0-9a-f]{40}$/.test(head)) return null;
    return run(['status', '--porcelain', '--untracked-files=no']) === '' ? head : `${head}-dirty`;
  } catch {
    return null;
  }
}
