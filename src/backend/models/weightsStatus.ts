/**
 * `lesion-lab weights`: where a backbone's ImageNet weights stand before a run needs them. Cached and
 * verified → nothing to do. Otherwise one quick HEAD request says whether they can be downloaded now
 * (and how big they are); with `download`, they are fetched with progress, checked (Keras' MD5 where it
 * publishes one, the size the server announced, and every array loaded into the backbone), and cached
 * once. The extension asks this before it starts a run, so a run never fails for want of weights.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { WeightsStatus } from '../../shared/protocol/backend';
import type { WeightsOptions } from '../../shared/protocol/jobs';
import { formatBytes } from '../../shared/format';
import type { JobContext } from '../job';
import { ProgressReporter } from '../job';
import { initEngine } from '../engines/load';
import { probeUrl } from '../net/httpDownload';
import { buildBackbone } from './backbone';
import { cachedImagenetWeights, defaultWeightsCacheDir, imagenetWeightsSpec, resolveImagenetWeights } from './imagenetWeights';
import { loadWeightsFile } from './weights';

/** Long enough for a slow link's first answer, short enough for a form (measured offline: the DNS failure comes in ~0.1 s). */
export const PROBE_TIMEOUT_MS = 4000;

export async function checkImagenetWeights(options: WeightsOptions, ctx: JobContext, cacheDir = defaultWeightsCacheDir()): Promise<WeightsStatus> {
  const spec = imagenetWeightsSpec(options.model, options.alpha, options.size, options.baseUrl);
  const base = { model: options.model, ...(options.alpha !== undefined ? { alpha: options.alpha } : {}), size: options.size, url: spec.url };
  const cached = await cachedImagenetWeights(spec, cacheDir);
  let status: WeightsStatus;
  if (cached) {
    status = { ...base, file: cached, cached: true, bytes: (await fs.stat(cached)).size };
  } else if (!options.download) {
    const probe = await probeUrl(spec.url, { timeoutMs: PROBE_TIMEOUT_MS, signal: ctx.signal });
    status = {
      ...base,
      file: path.join(cacheDir, spec.fileName),
      cached: false,
      ...(probe.bytes !== undefined ? { bytes: probe.bytes } : {}),
      download: { reachable: probe.reachable, ...(probe.reason ? { reason: probe.reason } : {}), seconds: probe.seconds },
    };
  } else {
    status = await downloadAndVerify(options, cacheDir, base, ctx);
  }
  ctx.emit({ type: 'weights/didCheck', status });
  return status;
}

async function downloadAndVerify(options: WeightsOptions, cacheDir: string, base: Pick<WeightsStatus, 'model' | 'alpha' | 'size' | 'url'>, ctx: JobContext): Promise<WeightsStatus> {
  let reporter: ProgressReporter | undefined;
  const file = await resolveImagenetWeights(options.model, options.alpha, options.size, cacheDir, ctx.signal, (done, total) => {
    reporter ??= new ProgressReporter(ctx.emit, `download ImageNet weights${total ? ` (${formatBytes(total)})` : ''}`, total ?? 0, 'byte');
    reporter.update(done);
  }, { baseUrl: options.baseUrl });
  // The strongest check there is for files Keras publishes no hash for: they load into the backbone.
  await initEngine('cpu');
  const backbone = buildBackbone(options.model, { inputSize: options.size, alpha: options.alpha });
  try {
    const report = await loadWeightsFile(backbone, file);
    const verified = `${report.weightsLoaded} arrays in ${report.layersLoaded} layers load into ${options.model}`;
    ctx.emit({ type: 'log', level: 'info', message: `ImageNet weights cached in ${file}: ${verified}` });
    return { ...base, file, cached: true, bytes: (await fs.stat(file)).size, verified };
  } catch (err) {
    // A file that does not load is not kept: the next attempt downloads it afresh.
    await fs.rm(file, { force: true });
    await fs.rm(`${file}.verified.json`, { force: true });
    throw err;
  } finally {
    backbone.dispose();
  }
}
