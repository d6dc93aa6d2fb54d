/**
 * "Install GPU Engine…": installs @tensorflow/tfjs-node-gpu (or the CPU build, tfjs-node) with npm
 * into the engines folder the backend looks in ($LESION_LAB_ENGINES_DIR/node_modules), then proves
 * that it loads by requiring it in a fresh process. A VSIX cannot run npm install scripts, and
 * tfjs-node's install script is what downloads libtensorflow, so this has to happen on the user's
 * machine, with the user's npm.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { InstallEngineOptions } from '../../shared/protocol/jobs';
import { CancelledError, UserError, throwIfCancelled } from '../errors';
import { writeJsonAtomic } from '../fsAtomic';
import type { JobContext } from '../job';
import { explainLoadFailure, explainNpmFailure } from './installFailure';
import type { NpmCommand } from './npmCommand';
import { findNpm, npmInvocation, shellQuote } from './npmCommand';
import type { StreamingResult } from './streamingProcess';
import { runStreaming } from './streamingProcess';

/** The version that matches the bundled @tensorflow/tfjs-core. */
export const ENGINE_VERSION = '4.22.0';

const PHASES = ['resolving', 'downloading', 'building', 'verifying'] as const;
type Phase = (typeof PHASES)[number];

/** What npm is asked to install, and how npm's allowScripts policy names it. */
interface InstallTarget {
  spec: string;
  /** The `allowScripts` key that lets this package's install script run (npm ≥ 12 blocks unlisted ones). */
  allowKey: string;
  kind: 'registry' | 'file' | 'url';
}

export async function installEngine(options: InstallEngineOptions, ctx: JobContext): Promise<void> {
  const packageName = `@tensorflow/${options.package}`;
  const dir = path.resolve(options.dir);
  const target = resolveTarget(packageName, options.spec);
  const manual = manualCommand(dir, target.spec, options.registry);
  if (target.kind === 'file' && !existsSync(target.spec)) {
    throw new UserError(`The package file ${target.spec} (--spec) does not exist. Give the path of a .tgz made by \`npm pack\`, a version such as ${ENGINE_VERSION}, or leave --spec out to install ${packageName}@${ENGINE_VERSION} from the registry.`);
  }
  if (options.package === 'tfjs-node-gpu' && target.kind === 'registry') checkGpuPlatform();
  const npm = findNpm();
  if (!npm) throw new UserError(noNpmMessage(packageName, manual));
  throwIfCancelled(ctx.signal);

  await prepareEnginesFolder(dir, target.allowKey);
  const installedManifest = path.join(dir, 'node_modules', ...packageName.split('/'), 'package.json');
  const wasInstalled = existsSync(installedManifest);
  const npmArgs = [
    'install',
    '--prefix',
    dir,
    '--no-audit',
    '--no-fund',
    '--no-update-notifier',
    // The install script must run (it fetches libtensorflow), even if the user's npm config says otherwise.
    '--ignore-scripts=false',
    // Script output (libtensorflow download, binding build) streams to the log instead of being held back.
    '--foreground-scripts',
    '--loglevel=http',
    ...(options.registry ? ['--registry', options.registry] : []),
    target.spec,
  ];
  ctx.emit({ type: 'log', level: 'info', message: `Installing ${target.spec} into ${dir} with npm (${npm.describe}):` });
  ctx.emit({ type: 'log', level: 'info', message: `> ${manual}` });

  const phases = new PhaseReporter(ctx);
  phases.enter('resolving');
  const lines: string[] = [];
  const result = await runNpm(npm, npmArgs, dir, manual, ctx, (line) => {
    lines.push(line);
    if (lines.length > 2000) lines.splice(0, 1000);
    phases.noteLine(line);
  }).finally(() => phases.stop());

  if (result.cancelled || ctx.signal.aborted) {
    if (!wasInstalled) await removePartialInstall(dir, packageName, ctx);
    throw new CancelledError();
  }
  if (result.exitCode !== 0) {
    if (!wasInstalled) await removePartialInstall(dir, packageName, ctx);
    const message = explainNpmFailure({
      packageName,
      spec: target.spec,
      dir,
      registry: options.registry,
      exitCode: result.exitCode,
      signal: result.signal,
      lines,
      manualCommand: manual,
    });
    const output = lines.filter((l) => !/^npm (http|timing|verbose|silly) /.test(l)).slice(-60);
    throw new UserError(message, output.join('\n'));
  }

  const manifest = await readInstalledManifest(installedManifest);
  if (!manifest || manifest.name !== packageName) {
    throw new UserError(
      `npm finished, but ${target.spec} did not install ${packageName} (${manifest ? `it is ${manifest.name}` : `${installedManifest} is missing`}). Give --spec a build of ${packageName}.`,
    );
  }

  phases.enter('verifying');
  ctx.emit({ type: 'log', level: 'info', message: `Loading ${packageName}@${manifest.version} in a fresh process to check that it works…` });
  const entry = path.dirname(installedManifest);
  const load = await verifyLoad(entry, ctx);
  if (!load.ok) throw new UserError(explainLoadFailure(options.package, load.message, dir), load.detail);
  if (load.gpuDevice) ctx.emit({ type: 'log', level: 'info', message: `TensorFlow created a GPU device: ${load.gpuDevice}` });
  else if (options.package === 'tfjs-node-gpu' && load.ranOp) {
    ctx.emit({ type: 'log', level: 'warn', message: 'tfjs-node-gpu loaded, but TensorFlow reported no GPU device; it would compute on the CPU. Check the NVIDIA driver (nvidia-smi).' });
  }
  phases.done();
  ctx.emit({ type: 'engine/didInstall', package: packageName, version: manifest.version, dir });
}

function resolveTarget(packageName: string, spec: string | undefined): InstallTarget {
  const registry = (s: string): InstallTarget => ({ spec: s, allowKey: packageName, kind: 'registry' });
  if (spec === undefined || spec.trim() === '') return registry(`${packageName}@${ENGINE_VERSION}`);
  const raw = spec.trim();
  if (/^https?:\/\//i.test(raw)) return { spec: raw, allowKey: raw, kind: 'url' };
  const fileish = raw.startsWith('file:') || /\.(tgz|tar\.gz|tar)$/i.test(raw) || path.isAbsolute(raw) || /^\.\.?[\\/]/.test(raw);
  if (fileish) {
    const file = path.resolve(raw.replace(/^file:/, ''));
    // npm matches a file dependency's allowScripts entry against its resolved `file:` path.
    return { spec: file, allowKey: `file:${file}`, kind: 'file' };
  }
  if (raw === packageName || raw.startsWith(`${packageName}@`)) return registry(raw);
  // A version, range or dist-tag of the package.
  if (/^[~^<>=]*v?\d/.test(raw) || /^[a-z][\w.-]*$/i.test(raw)) return registry(`${packageName}@${raw}`);
  throw new UserError(
    `--spec "${raw}" is not a version of ${packageName}, a .tgz file or a URL. Leave it out to install ${packageName}@${ENGINE_VERSION}.`,
  );
}

function checkGpuPlatform(): void {
  if (process.platform === 'darwin') {
    throw new UserError(
      'tfjs-node-gpu needs CUDA, which macOS does not have. The webgpu engine already uses this Mac’s GPU (Metal); for native CPU speed install the CPU build (tfjs-node).',
    );
  }
  if ((process.platform !== 'linux' && process.platform !== 'win32') || process.arch !== 'x64') {
    throw new UserError(
      `tfjs-node-gpu exists for Linux and Windows on x64 only, not ${process.platform}-${process.arch}. Use the webgpu engine for this GPU, or the CPU build (tfjs-node).`,
    );
  }
}

function manualCommand(dir: string, spec: string, registry: string | undefined): string {
  const args = ['npm', 'install', '--prefix', dir, '--no-audit', '--no-fund', ...(registry ? ['--registry', registry] : []), spec];
  return args.map((a) => shellQuote(a)).join(' ');
}

function noNpmMessage(packageName: string, manual: string): string {
  return (
    `Installing ${packageName} needs npm, and none was found (looked on PATH and next to ${process.execPath}). ` +
    'VS Code’s built-in Node.js has no npm: install Node.js 20 or later from https://nodejs.org (it includes npm), restart VS Code so it sees the new PATH, and run “Install GPU Engine…” again. ' +
    `Or run the same install yourself in a terminal: ${manual}`
  );
}

/** The engines folder is a tiny npm project of its own, so npm installs into it and never walks up to a parent package.json. */
async function prepareEnginesFolder(dir: string, allowKey: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (err) {
    throw new UserError(`Could not create the engines folder ${dir}: ${(err as Error).message}. Choose a folder you can write to.`);
  }
  const file = path.join(dir, 'package.json');
  let pkg: Record<string, unknown> = {
    name: 'lesion-lab-engines',
    private: true,
    description: 'Native TensorFlow.js engines installed by Lesion Lab (“Install GPU Engine…”). Safe to delete.',
  };
  if (existsSync(file)) {
    try {
      const parsed: unknown = JSON.parse(await fs.readFile(file, 'utf8'));
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
      pkg = parsed as Record<string, unknown>;
    } catch (err) {
      throw new UserError(`${file} is not a valid package.json (${(err as Error).message}). Delete it (Lesion Lab writes a new one) and try again.`);
    }
  }
  const allow = pkg.allowScripts && typeof pkg.allowScripts === 'object' ? (pkg.allowScripts as Record<string, unknown>) : {};
  if (allow[allowKey] === true && existsSync(file)) return;
  // npm 11.16+ reads allowScripts; from npm 12 on, install scripts not listed there are skipped.
  pkg.allowScripts = { ...allow, [allowKey]: true };
  await writeJsonAtomic(file, pkg);
}

async function runNpm(npm: NpmCommand, args: string[], dir: string, manual: string, ctx: JobContext, onLine: (line: string) => void): Promise<StreamingResult> {
  const sep = process.platform === 'win32' ? ';' : ':';
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_update_notifier: 'false' };
  const pathKey = Object.keys(env).find((k) => k.toUpperCase() === 'PATH') ?? 'PATH';
  if (npm.nodeDir) env[pathKey] = `${npm.nodeDir}${sep}${env[pathKey] ?? ''}`;
  const run = npmInvocation(npm, args);
  try {
    return await runStreaming(run.command, run.args, {
      cwd: dir,
      env,
      windowsVerbatimArguments: run.windowsVerbatimArguments,
      signal: ctx.signal,
      onLine: (line, stream) => {
        onLine(line);
        // npm's http lines are for the log file; people want the rest.
        const debug = /^npm (http|timing|verbose|silly) /.test(line);
        ctx.emit({ type: 'log', level: debug ? 'debug' : stream === 'stderr' && /^npm (?:error|ERR!)/.test(line) ? 'warn' : 'info', message: line });
      },
    });
  } catch (err) {
    throw new UserError(`npm (${npm.describe}) could not be started: ${(err as Error).message}. Check your Node.js installation, or run in a terminal: ${manual}`);
  }
}

async function removePartialInstall(dir: string, packageName: string, ctx: JobContext): Promise<void> {
  const pkgDir = path.join(dir, 'node_modules', ...packageName.split('/'));
  if (!existsSync(pkgDir)) return;
  // A half-installed package would be detected as "installed, but failed to load"; better to say "not installed".
  await fs.rm(pkgDir, { recursive: true, force: true }).catch(() => undefined);
  ctx.emit({ type: 'log', level: 'info', message: `Removed the incomplete ${pkgDir}.` });
}

async function readInstalledManifest(file: string): Promise<{ name: string; version: string } | undefined> {
  try {
    const m = JSON.parse(await fs.readFile(file, 'utf8')) as { name?: unknown; version?: unknown };
    return typeof m.name === 'string' && typeof m.version === 'string' ? { name: m.name, version: m.version } : undefined;
  } catch {
    return undefined;
  }
}

const LOAD_MARKER = 'LESION_LAB_LOAD_RESULT ';

// Runs in the fresh process: require the package, run one op so TensorFlow creates its devices, report.
const LOAD_SCRIPT = `
const out = (r) => process.stdout.write('\\n${LOAD_MARKER}' + JSON.stringify(r) + '\\n');
let tf;
try { tf = require(process.argv[1]); } catch (e) { out({ ok: false, message: String((e && e.message) || e) }); process.exit(3); }
let backend, ranOp = false;
try {
  if (typeof tf.getBackend === 'function') backend = tf.getBackend();
  if (typeof tf.tensor === 'function') { tf.tensor([1, 2]).add(1).dataSync(); ranOp = true; }
} catch (e) { out({ ok: false, message: 'loaded, but running an operation failed: ' + String((e && e.message) || e) }); process.exit(3); }
out({ ok: true, backend, ranOp });
`;

interface LoadResult {
  ok: boolean;
  message: string;
  detail?: string;
  ranOp: boolean;
  gpuDevice?: string;
}

async function verifyLoad(entryDir: string, ctx: JobContext): Promise<LoadResult> {
  let report: { ok: boolean; message?: string; ranOp?: boolean } | undefined;
  let gpuDevice: string | undefined;
  const loaderLines: string[] = [];
  // The Node that runs this backend is the one that will load the engine (Electron's in VS Code).
  const result = await runStreaming(process.execPath, ['-e', LOAD_SCRIPT, entryDir], {
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    signal: ctx.signal,
    timeoutMs: 180_000,
    onLine: (line) => {
      if (line.startsWith(LOAD_MARKER)) {
        try {
          report = JSON.parse(line.slice(LOAD_MARKER.length)) as typeof report;
        } catch {
          // a torn line; treated as no report
        }
        return;
      }
      loaderLines.push(line);
      if (loaderLines.length > 200) loaderLines.shift();
      // libtensorflow logs: "Created device /job:localhost/…/device:GPU:0 with 79 GB memory: -> device: 0, name: NVIDIA H100 …, pci bus id: …"
      const m = /Created device .*device:GPU:\d+.*name: ([^,]+)/.exec(line);
      if (m) gpuDevice ??= m[1]!.trim();
      ctx.emit({ type: 'log', level: 'debug', message: `load check: ${line}` });
    },
  });
  if (result.cancelled || ctx.signal.aborted) throw new CancelledError();
  const detail = loaderLines.slice(-40).join('\n');
  if (report?.ok && result.exitCode === 0) return { ok: true, message: '', ranOp: report.ranOp === true, gpuDevice };
  if (report && !report.ok) return { ok: false, message: report.message ?? 'unknown error', detail, ranOp: false };
  const how = result.timedOut ? 'did not finish within 3 minutes' : result.signal ? `crashed (${result.signal})` : `exited with code ${result.exitCode}`;
  const last = loaderLines.filter((l) => l.trim()).slice(-3).join(' ⏎ ');
  return { ok: false, message: `loading it ${how}${last ? `: ${last}` : ''}`, detail, ranOp: false };
}

/**
 * npm says little about where it is; its log lines do. Progress is by phase (how many bytes
 * npm and the install script will fetch is not known up front), so `done/total` counts phases.
 */
class PhaseReporter {
  private phase: Phase | undefined;
  private task = '';
  private lastOutput = Date.now();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly ctx: JobContext) {
    this.timer = setInterval(() => this.heartbeat(), 10_000);
    this.timer.unref();
  }

  enter(phase: Phase, task: string = phase): void {
    if (this.phase === phase && this.task === task) return;
    this.phase = phase;
    this.task = task;
    this.report();
  }

  noteLine(line: string): void {
    this.lastOutput = Date.now();
    if (line.startsWith('npm ')) {
      // "npm http fetch GET 200 https://…/x-1.0.0.tgz …" on a cache miss, "npm http cache x@https://…/x-1.0.0.tgz …" on a hit.
      if (/^npm http (?:fetch GET \d+|cache) \S+\.tgz\b/.test(line) && this.index() < 1) this.enter('downloading');
      return;
    }
    // What tfjs-node's install script prints (scripts/install.js), and npm's banner before a script.
    if (/^\* Downloading libtensorflow/i.test(line)) this.enter('building', 'downloading libtensorflow');
    else if (/^\* Building TensorFlow Node\.js bindings|^node-pre-gyp /i.test(line)) this.enter('building', 'building the native binding');
    else if (/^> \S+@\S+ (preinstall|install|postinstall)$/.test(line)) this.enter('building', `running ${line.slice(2).split(' ')[0]} install script`);
  }

  done(): void {
    this.ctx.emit({ type: 'progress', task: 'installed', done: PHASES.length, total: PHASES.length, unit: 'steps' });
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private index(): number {
    return this.phase ? PHASES.indexOf(this.phase) : -1;
  }

  private report(): void {
    this.ctx.emit({ type: 'progress', task: this.task, done: this.index(), total: PHASES.length, unit: 'steps' });
  }

  private heartbeat(): void {
    const quiet = Math.round((Date.now() - this.lastOutput) / 1000);
    if (quiet < 30) return;
    const hint = this.task === 'downloading libtensorflow' ? ' libtensorflow is a large download (hundreds of MB); this can take several minutes.' : '';
    this.ctx.emit({ type: 'log', level: 'info', message: `npm is still ${this.task} (no output for ${quiet} s).${hint}` });
    this.report();
  }
}

export const __testing = { resolveTarget, manualCommand };
