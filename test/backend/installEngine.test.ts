/**
 * `lesion-lab install-engine` through the real CLI and the real npm: only the source is local. The
 * packages are small stand-ins for @tensorflow/tfjs-node-gpu packed with `npm pack` (one loads, one
 * fails as the real one does without CUDA 11.2, one whose install script cannot download
 * libtensorflow, one whose install script hangs), installed from a .tgz or from a local registry.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants as fsConstants, existsSync, promises as fs, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { BackendEvent } from '../../src/shared/protocol/backend';
import type { EngineInfo } from '../../src/shared/protocol/engines';
import { CLI, runCli, startCli } from '../helpers/cli';
import { TestHttpServer } from '../helpers/httpServer';

const PKG = '@tensorflow/tfjs-node-gpu';

/** Writes a package folder and packs it; returns the .tgz path. */
async function packFake(root: string, variant: string, files: Record<string, string>, scripts: Record<string, string> = {}): Promise<string> {
  const dir = path.join(root, 'src', variant);
  await fs.mkdir(dir, { recursive: true });
  const manifest = { name: PKG, version: '4.22.0', description: `Lesion Lab test stand-in (${variant})`, main: 'index.js', license: 'MIT', scripts };
  await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  for (const [name, text] of Object.entries(files)) await fs.writeFile(path.join(dir, name), text);
  const out = path.join(root, 'packed', variant);
  await fs.mkdir(out, { recursive: true });
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: dir, encoding: 'utf8', env: npmEnv(root) })) as { filename: string }[];
  return path.join(out, packed[0]!.filename);
}

/** Keeps npm away from the user's cache and config. */
function npmEnv(root: string): Record<string, string> {
  return {
    npm_config_cache: path.join(root, 'npm-cache'),
    npm_config_userconfig: path.join(root, 'npmrc'),
    npm_config_fetch_retries: '0',
    npm_config_update_notifier: 'false',
  };
}

/** Running, not merely a zombie that nobody has reaped yet (containers often lack an init that reaps). */
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return process.platform !== 'linux';
  }
};

const byType = <T extends BackendEvent['type']>(events: BackendEvent[], type: T): Extract<BackendEvent, { type: T }>[] =>
  events.filter((e): e is Extract<BackendEvent, { type: T }> => e.type === type);

async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('install-engine (CLI, real npm, local packages)', function () {
  this.timeout(120_000);
  let root: string;
  let tmp: string;
  let tgz: { loads: string; noCuda: string; noNetwork: string; hangs: string; registry: string };

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'lesion-lab-install-engine-'));
    await fs.writeFile(path.join(root, 'npmrc'), '');
    tgz = {
      loads: await packFake(root, 'loads', { 'index.js': "exports.version = { 'tfjs-node': '4.22.0' };\n" }),
      // What Node reports when libtensorflow.so cannot find CUDA 11's runtime.
      noCuda: await packFake(root, 'no-cuda', {
        'index.js':
          "const err = new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory');\nerr.code = 'ERR_DLOPEN_FAILED';\nthrow err;\n",
      }),
      // Like tfjs-node's scripts/install.js: an https.get with no error handler, from TFJS_NODE_CDN_STORAGE or Google's storage.
      noNetwork: await packFake(
        root,
        'no-network',
        {
          'index.js': 'module.exports = {};\n',
          'install.js':
            "const https = require('https');\nconst base = process.env.TFJS_NODE_CDN_STORAGE || 'https://storage.googleapis.com/';\nconsole.warn('* Downloading libtensorflow');\nhttps.get(base + 'tensorflow/libtensorflow/libtensorflow-gpu-linux-x86_64-2.9.1.tar.gz', (res) => res.resume()).end();\n",
        },
        { install: 'node install.js gpu download' },
      ),
      hangs: await packFake(
        root,
        'hangs',
        {
          'index.js': 'module.exports = {};\n',
          'install.js':
            "require('fs').writeFileSync(process.env.LESION_LAB_TEST_PIDFILE, String(process.pid));\nconsole.warn('* Downloading libtensorflow');\nsetTimeout(() => {}, 600000);\n",
        },
        { install: 'node install.js gpu download' },
      ),
      // Its "binding" is written by the install script, so it loads only if npm ran the script.
      registry: await packFake(
        root,
        'registry',
        {
          'index.js': "require('./lib/binding.json');\nexports.version = { 'tfjs-node': '4.22.0' };\n",
          'install.js': "const fs = require('fs');\nfs.mkdirSync('lib', { recursive: true });\nfs.writeFileSync('lib/binding.json', '{}');\nconsole.warn('* Building TensorFlow Node.js bindings');\n",
        },
        { install: 'node install.js gpu download' },
      ),
    };
  });
  after(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(root, 'run-'));
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  async function gpuEngine(dir: string): Promise<EngineInfo> {
    const r = await runCli(['engines', '--json'], { env: { LESION_LAB_ENGINES_DIR: dir } });
    assert.equal(r.code, 0, r.stderr);
    const detected = byType(r.events, 'engines/didDetect')[0]!;
    return detected.engines.find((e) => e.name === 'tfjs-node-gpu')!;
  }

  it('installs a loadable package from a .tgz, verifies it, and `engines` then finds it', async () => {
    const dir = path.join(tmp, 'engines');
    assert.match((await gpuEngine(dir)).reason, /^not installed/);

    const r = await runCli(['install-engine', '--package', 'tfjs-node-gpu', '--dir', dir, '--spec', tgz.loads, '--json'], { env: npmEnv(tmp) });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const logs = byType(r.events, 'log').map((e) => e.message);
    assert.ok(logs.some((m) => m.startsWith(`> npm install --prefix ${dir} --no-audit --no-fund ${tgz.loads}`)), logs.join('\n'));
    assert.ok(logs.some((m) => /^added 1 package/.test(m)), 'npm’s own output is streamed as log events');
    const tasks = byType(r.events, 'progress').map((e) => e.task);
    assert.deepEqual([tasks[0], ...tasks.slice(-2)], ['resolving', 'verifying', 'installed']);
    const installed = byType(r.events, 'engine/didInstall');
    assert.deepEqual(installed, [{ type: 'engine/didInstall', package: PKG, version: '4.22.0', dir }]);
    assert.deepEqual(r.events.at(-1), { type: 'job/didEnd', status: 'done', exitCode: 0 });

    const manifest = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8')) as { private: boolean; allowScripts: Record<string, boolean>; dependencies: Record<string, string> };
    assert.equal(manifest.private, true);
    assert.equal(manifest.allowScripts[`file:${tgz.loads}`], true);
    assert.ok(manifest.dependencies[PKG]);

    // Found now: the reason moves on to the CUDA check (or, with CUDA present, to loading it).
    const after = await gpuEngine(dir);
    assert.doesNotMatch(after.reason, /not installed/);
    assert.match(after.reason, /^installed/);
  });

  it('reports the CUDA requirement when the installed engine cannot load libcudart.so.11.0', async () => {
    const dir = path.join(tmp, 'engines');
    const r = await runCli(['install-engine', '--package', 'tfjs-node-gpu', '--dir', dir, '--spec', tgz.noCuda, '--json'], { env: npmEnv(tmp) });
    assert.equal(r.code, 1);
    const errors = byType(r.events, 'error');
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /libcudart\.so\.11\.0 was not found/);
    assert.match(errors[0]!.message, /CUDA 11\.2 and cuDNN 8\.1 are required/);
    assert.match(errors[0]!.message, /LD_LIBRARY_PATH/);
    assert.equal(byType(r.events, 'engine/didInstall').length, 0);
    assert.deepEqual(r.events.at(-1), { type: 'job/didEnd', status: 'failed', exitCode: 1 });
    // The package stays: once CUDA is installed it is found without reinstalling.
    assert.match((await gpuEngine(dir)).reason, /^installed/);
  });

  it('fails clearly for a --spec file that does not exist, before running npm', async () => {
    const dir = path.join(tmp, 'engines');
    const missing = path.join(tmp, 'nowhere', 'tensorflow-tfjs-node-gpu-4.22.0.tgz');
    const r = await runCli(['install-engine', '--package', 'tfjs-node-gpu', '--dir', dir, '--spec', missing]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`error: The package file ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(--spec\\) does not exist`));
    assert.match(r.stderr, /npm pack/);
    assert.equal(existsSync(dir), false);
  });

  it('says plainly when the install script cannot download libtensorflow, and leaves nothing half-installed', async () => {
    const dir = path.join(tmp, 'engines');
    const port = await closedPort();
    const env = { ...npmEnv(tmp), TFJS_NODE_CDN_STORAGE: `https://127.0.0.1:${port}/` };
    const r = await runCli(['install-engine', '--package', 'tfjs-node-gpu', '--dir', dir, '--spec', tgz.noNetwork, '--json'], { env });
    assert.equal(r.code, 1);
    const message = byType(r.events, 'error')[0]!.message;
    assert.match(message, /install script could not download libtensorflow/);
    assert.match(message, /ECONNREFUSED/);
    assert.match(message, /HTTPS_PROXY/);
    assert.match(message, /npm install --prefix/);
    assert.ok(byType(r.events, 'progress').some((e) => e.task === 'downloading libtensorflow'));
    assert.equal(existsSync(path.join(dir, 'node_modules', '@tensorflow', 'tfjs-node-gpu')), false);
    assert.match((await gpuEngine(dir)).reason, /^not installed/);
  });

  it('cancels on SIGINT: ends npm and its install script, exit 130, nothing left installed', async () => {
    const dir = path.join(tmp, 'engines');
    const pidFile = path.join(tmp, 'script.pid');
    const run = startCli(['install-engine', '--package', 'tfjs-node-gpu', '--dir', dir, '--spec', tgz.hangs, '--json'], {
      env: { ...npmEnv(tmp), LESION_LAB_TEST_PIDFILE: pidFile },
    });
    await run.waitForEvent((e) => e.type === 'progress' && e.task === 'downloading libtensorflow');
    for (let i = 0; i < 100 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
    const scriptPid = Number(await fs.readFile(pidFile, 'utf8'));
    assert.ok(isAlive(scriptPid), 'the install script runs');
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130);
    assert.deepEqual(r.events.at(-1), { type: 'job/didEnd', status: 'cancelled', exitCode: 130 });
    assert.equal(isAlive(scriptPid), false, 'the install script was ended with npm');
    assert.equal(existsSync(path.join(dir, 'node_modules', '@tensorflow', 'tfjs-node-gpu')), false);
  });

  it('installs @tensorflow/tfjs-node-gpu@4.22.0 from a registry (--registry), running its install script', async () => {
    const dir = path.join(tmp, 'engines');
    const body = await fs.readFile(tgz.registry);
    const server = await TestHttpServer.start();
    try {
      const tarballPath = `/${PKG}/-/tfjs-node-gpu-4.22.0.tgz`;
      const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tgz.registry, 'package/package.json'], { encoding: 'utf8' })) as object;
      const packument = {
        name: PKG,
        'dist-tags': { latest: '4.22.0' },
        versions: {
          '4.22.0': {
            ...manifest,
            _id: `${PKG}@4.22.0`,
            dist: {
              tarball: server.url(tarballPath.slice(1)),
              shasum: createHash('sha1').update(body).digest('hex'),
              integrity: `sha512-${createHash('sha512').update(body).digest('base64')}`,
            },
          },
        },
      };
      server.files.set(`/${PKG}`, Buffer.from(JSON.stringify(packument)));
      server.files.set(tarballPath, body);

      const r = await runCli(['install-engine', '--package', 'tfjs-node-gpu', '--dir', dir, '--registry', server.baseUrl, '--json'], { env: npmEnv(tmp) });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.ok(server.requestsFor(`/${PKG}`).length >= 1, 'npm asked the registry for the packument');
      assert.equal(server.requestsFor(tarballPath).length, 1, `and downloaded the tarball: ${JSON.stringify(server.requests.map((q) => q.path))}`);
      const tasks = byType(r.events, 'progress').map((e) => e.task);
      for (const t of ['resolving', 'downloading', 'building the native binding', 'verifying', 'installed']) assert.ok(tasks.includes(t), `${t} in ${tasks.join(', ')}`);
      assert.deepEqual(byType(r.events, 'engine/didInstall'), [{ type: 'engine/didInstall', package: PKG, version: '4.22.0', dir }]);
      const written = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> };
      assert.deepEqual(written.allowScripts, { [PKG]: true });
      assert.ok(existsSync(path.join(dir, 'node_modules', PKG, 'lib', 'binding.json')), 'the install script ran');
    } finally {
      await server.close();
    }
  });

  it('explains an unreachable registry', async () => {
    const dir = path.join(tmp, 'engines');
    const registry = `http://127.0.0.1:${await closedPort()}/`;
    const r = await runCli(['install-engine', '--package', 'tfjs-node-gpu', '--dir', dir, '--registry', registry, '--json'], { env: npmEnv(tmp) });
    assert.equal(r.code, 1);
    const message = byType(r.events, 'error')[0]!.message;
    assert.match(message, new RegExp(`npm could not reach ${registry.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(message, /ECONNREFUSED/);
  });

  it('without npm (as in VS Code’s extension host) explains how to get it and prints the command to run by hand', async () => {
    // A Node whose folder has no npm, and a PATH without one: the node binary hard-linked into the temp dir (a
    // symlink would not do: Node resolves its own path through it), or copied where the temp dir is on another
    // file system.
    const binDir = path.join(tmp, 'bin');
    await fs.mkdir(binDir);
    const node = path.join(binDir, path.basename(process.execPath));
    await fs.link(process.execPath, node).catch(async () => {
      await fs.copyFile(process.execPath, node, fsConstants.COPYFILE_FICLONE);
      await fs.chmod(node, 0o755);
    });
    const dir = path.join(tmp, 'engines');
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(node, [CLI, 'install-engine', '--package', 'tfjs-node', '--dir', dir], { env: { ...process.env, PATH: path.join(tmp, 'empty') } });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /needs npm, and none was found/);
    assert.match(r.stderr, /https:\/\/nodejs\.org/);
    assert.ok(r.stderr.includes(`npm install --prefix ${dir} --no-audit --no-fund @tensorflow/tfjs-node@4.22.0`), r.stderr);
  });

  it('refuses bad usage with exit 2', async () => {
    const r = await runCli(['install-engine', '--package', 'tfjs-node-cuda', '--dir', tmp]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--package must be one of tfjs-node-gpu, tfjs-node/);
  });
});
