/**
 * The pure parts of "Install GPU Engine…": where npm is found, what npm is asked to install, and
 * how npm's and the loader's output become messages. The npm output below was captured from real
 * runs of npm 11.19 (the libtensorflow case from installing the real @tensorflow/tfjs-node-gpu@4.22.0
 * on a machine that can reach the npm registry but not storage.googleapis.com).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { explainLoadFailure, explainNpmFailure, npmErrorCode, npmErrorSummary } from '../../../src/backend/engines/installFailure';
import type { NpmFailureContext } from '../../../src/backend/engines/installFailure';
import { __testing } from '../../../src/backend/engines/installEngine';
import { cmdCommandLine, findNpm, npmInvocation, shellQuote } from '../../../src/backend/engines/npmCommand';
import type { NpmSearch } from '../../../src/backend/engines/npmCommand';
import { UserError } from '../../../src/backend/errors';

const { resolveTarget } = __testing;

function search(files: Record<string, string | true>, over: Partial<NpmSearch>): NpmSearch {
  return {
    pathEnv: '',
    execPath: '/opt/vscode/code',
    platform: 'linux',
    exists: (f) => f in files,
    realpath: (f) => {
      const t = files[f];
      if (t === undefined) throw new Error(`ENOENT ${f}`);
      return t === true ? f : t;
    },
    ...over,
  };
}

describe('findNpm', () => {
  it('runs npm-cli.js with the node beside the npm on PATH, and puts that node first on PATH', () => {
    const s = search(
      { '/usr/local/bin/npm': '/usr/local/lib/node_modules/npm/bin/npm-cli.js', '/usr/local/bin/node': true },
      { pathEnv: '/usr/bin:/usr/local/bin' },
    );
    assert.deepEqual(findNpm(s), {
      command: '/usr/local/bin/node',
      prefixArgs: ['/usr/local/lib/node_modules/npm/bin/npm-cli.js'],
      nodeDir: '/usr/local/bin',
      describe: '/usr/local/lib/node_modules/npm/bin/npm-cli.js (run by /usr/local/bin/node)',
    });
  });

  it('finds npm next to the node that runs the backend when PATH has none', () => {
    const s = search({ '/opt/node20/bin/npm': '/opt/node20/lib/node_modules/npm/bin/npm-cli.js', '/opt/node20/bin/node': true }, {
      pathEnv: '/usr/bin',
      execPath: '/opt/node20/bin/node',
    });
    assert.equal(findNpm(s)?.command, '/opt/node20/bin/node');
  });

  it('is undefined in VS Code’s extension host without a Node.js install (Electron has no npm)', () => {
    assert.equal(findNpm(search({ '/usr/bin/git': true }, { pathEnv: '/usr/bin:/bin', execPath: '/usr/share/code/code' })), undefined);
  });

  it('uses a shim (volta, asdf) as it is when npm is not a link to npm-cli.js', () => {
    const s = search({ '/home/u/.volta/bin/npm': true }, { pathEnv: '/home/u/.volta/bin' });
    assert.deepEqual(findNpm(s), { command: '/home/u/.volta/bin/npm', prefixArgs: [], nodeDir: undefined, describe: '/home/u/.volta/bin/npm' });
  });

  it('on Windows runs npm-cli.js with node.exe rather than npm.cmd (which needs a shell)', () => {
    const dir = 'C:\\Program Files\\nodejs';
    const s = search(
      { [`${dir}\\npm.cmd`]: true, [`${dir}\\node.exe`]: true, [`${dir}\\node_modules\\npm\\bin\\npm-cli.js`]: true },
      { platform: 'win32', pathEnv: `C:\\Windows;${dir}`, execPath: 'C:\\Users\\u\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe' },
    );
    const npm = findNpm(s);
    assert.equal(npm?.command, `${dir}\\node.exe`);
    assert.deepEqual(npm?.prefixArgs, [`${dir}\\node_modules\\npm\\bin\\npm-cli.js`]);
    assert.equal(npm?.viaCmd, undefined);
  });

  it('on Windows with only npm.cmd: cmd.exe /d /s /c with a command line quoted here, never a shell option', () => {
    const dir = 'C:\\Program Files\\nodejs';
    const npm = findNpm(search({ [`${dir}\\npm.cmd`]: true }, { platform: 'win32', pathEnv: dir, execPath: 'C:\\Code\\Code.exe' }));
    assert.deepEqual(npm, { command: `${dir}\\npm.cmd`, prefixArgs: [], viaCmd: true, describe: `${dir}\\npm.cmd` });
    const run = npmInvocation(npm, ['install', '--prefix', 'C:\\Users\\Jane Doe\\engines'], 'C:\\Windows\\system32\\cmd.exe');
    assert.equal(run.command, 'C:\\Windows\\system32\\cmd.exe');
    assert.deepEqual(run.args.slice(0, 3), ['/d', '/s', '/c']);
    assert.equal(run.windowsVerbatimArguments, true);
    assert.equal(run.args[3], `"${cmdCommandLine(npm.command, ['install', '--prefix', 'C:\\Users\\Jane Doe\\engines'])}"`);
    // Everywhere else the arguments go to the program as a list.
    assert.deepEqual(npmInvocation({ command: '/usr/bin/node', prefixArgs: ['/npm-cli.js'], describe: '' }, ['install']), { command: '/usr/bin/node', args: ['/npm-cli.js', 'install'], windowsVerbatimArguments: false });
  });
});

/**
 * An independent model of what Windows does with `cmd.exe /d /s /c "LINE"` running a batch file, for the
 * round trip below: /s drops the outer quotes; cmd.exe reads LINE (a quote toggles quoting; outside quotes
 * a caret makes the next character literal and disappears); the batch file's `%*` holds the arguments as
 * read, and its line is read the same way again; the program then splits its command line by the C
 * runtime's rules (2n backslashes + quote: n backslashes and a quote toggle; 2n+1: n backslashes and a
 * literal quote; white space outside quotes separates).
 */
function cmdRead(line: string): string {
  let out = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"') quoted = !quoted;
    if (c === '^' && !quoted) {
      out += line[++i] ?? '';
      continue;
    }
    if (!quoted && '&|<>'.includes(c)) throw new Error(`cmd.exe would act on an unescaped ${c} at ${i} in ${line}`);
    out += c;
  }
  return out;
}

function crtArgv(line: string): string[] {
  const args: string[] = [];
  let cur = '';
  let inArg = false;
  let quoted = false;
  for (let i = 0; i < line.length; ) {
    const c = line[i]!;
    if (c === '\\') {
      let n = 0;
      while (line[i] === '\\') {
        n++;
        i++;
      }
      if (line[i] === '"') {
        cur += '\\'.repeat(Math.floor(n / 2));
        if (n % 2 === 1) {
          cur += '"';
          i++;
        }
      } else cur += '\\'.repeat(n);
      inArg = true;
      continue;
    }
    if (c === '"') {
      quoted = !quoted;
      inArg = true;
      i++;
      continue;
    }
    if ((c === ' ' || c === '\t') && !quoted) {
      if (inArg) args.push(cur);
      cur = '';
      inArg = false;
      i++;
      continue;
    }
    cur += c;
    inArg = true;
    i++;
  }
  if (inArg) args.push(cur);
  return args;
}

/** What node, started by npm.cmd, receives as npm's arguments when LINE is run through cmd.exe. */
function receivedThroughNpmCmd(line: string): { program: string; args: string[] } {
  const read = cmdRead(line);
  const [, program, rest] = /^"([^"]*)" ?(.*)$/s.exec(read)!;
  return { program: program!, args: crtArgv(cmdRead(rest!)) };
}

describe('cmdCommandLine: npm.cmd without a shell option', () => {
  it('delivers every argument exactly: spaces, & and ^ in paths, quotes, trailing backslashes, empty ones', () => {
    const npmCmd = 'C:\\Program Files (x86)\\node&co\\npm.cmd';
    const args = [
      'install',
      '--prefix',
      'C:\\Users\\Jane Doe\\AppData\\Roaming\\Code\\User\\globalStorage\\lesion-lab\\engines',
      'C:\\R&D\\engines',
      'C:\\caret^dir\\x',
      '--registry',
      'http://localhost:4873/?a=1&b=2|x',
      'he said "hi" (twice)',
      'say "R&D" | tee',
      'C:\\ends with a backslash\\',
      'back\\\\"slashes',
      '',
      '@tensorflow/tfjs-node@4.22.0',
    ];
    const line = cmdCommandLine(npmCmd, args);
    assert.deepEqual(receivedThroughNpmCmd(line), { program: npmCmd, args });
  });

  it('the model itself catches what a shell option would do: unquoted arguments break at & and spaces', () => {
    const naive = ['"C:\\nodejs\\npm.cmd"', 'install', '--prefix', 'C:\\Users\\Jane Doe\\engines'].join(' ');
    assert.notDeepEqual(receivedThroughNpmCmd(naive).args, ['install', '--prefix', 'C:\\Users\\Jane Doe\\engines']);
    assert.throws(() => receivedThroughNpmCmd(['"C:\\nodejs\\npm.cmd"', 'install', 'C:\\R&D'].join(' ')), /unescaped &/);
  });
});

describe('resolveTarget', () => {
  const pkg = '@tensorflow/tfjs-node-gpu';
  it('defaults to 4.22.0 from the registry, allowed by name', () => {
    assert.deepEqual(resolveTarget(pkg, undefined), { spec: `${pkg}@4.22.0`, allowKey: pkg, kind: 'registry' });
  });
  it('takes a version, the full spec, a .tgz and a URL', () => {
    assert.equal(resolveTarget(pkg, '4.21.0').spec, `${pkg}@4.21.0`);
    assert.equal(resolveTarget(pkg, `${pkg}@4.20.0`).spec, `${pkg}@4.20.0`);
    const file = resolveTarget(pkg, 'engines/tensorflow-tfjs-node-gpu-4.22.0.tgz');
    assert.equal(file.kind, 'file');
    assert.equal(file.spec, path.resolve('engines/tensorflow-tfjs-node-gpu-4.22.0.tgz'));
    assert.equal(file.allowKey, `file:${file.spec}`);
    assert.deepEqual(resolveTarget(pkg, 'https://mirror.example/tfjs-node-gpu-4.22.0.tgz'), {
      spec: 'https://mirror.example/tfjs-node-gpu-4.22.0.tgz',
      allowKey: 'https://mirror.example/tfjs-node-gpu-4.22.0.tgz',
      kind: 'url',
    });
  });
  it('refuses another package', () => {
    assert.throws(() => resolveTarget(pkg, '@tensorflow/tfjs-node@4.22.0'), (e: unknown) => e instanceof UserError && /not a version of @tensorflow\/tfjs-node-gpu/.test(e.message));
  });
});

const base = (lines: string[]): NpmFailureContext => ({
  packageName: '@tensorflow/tfjs-node-gpu',
  spec: '@tensorflow/tfjs-node-gpu@4.22.0',
  dir: '/home/u/.config/Code/User/globalStorage/lesion-lab.lesion-lab/engines',
  exitCode: 1,
  signal: null,
  lines,
  manualCommand: 'npm install --prefix /home/u/engines --no-audit --no-fund @tensorflow/tfjs-node-gpu@4.22.0',
});

describe('explainNpmFailure', () => {
  it('says that the libtensorflow download failed (real tfjs-node-gpu install script output)', () => {
    const lines = [
      '> @tensorflow/tfjs-node-gpu@4.22.0 install',
      '> node scripts/install.js gpu download',
      'GPU-linux-4.22.0.tar.gz',
      '* Downloading libtensorflow',
      'https://storage.googleapis.com/tensorflow/libtensorflow/libtensorflow-gpu-linux-x86_64-2.9.1.tar.gz',
      'node:events:502',
      "      throw er; // Unhandled 'error' event",
      'Error: getaddrinfo ENOTFOUND storage.googleapis.com',
      '    at GetAddrInfoReqWrap.onlookupall [as oncomplete] (node:dns:122:26)',
      "  code: 'ENOTFOUND',",
      'Node.js v20.20.2',
      'npm error code 1',
      'npm error path /home/u/engines/node_modules/@tensorflow/tfjs-node-gpu',
      'npm error command failed',
      'npm error command sh -c node scripts/install.js gpu download',
      'npm error A complete log of this run can be found in: /root/.npm/_logs/2026-11-26T19_46_56_895Z-debug-0.log',
    ];
    const m = explainNpmFailure(base(lines));
    assert.match(m, /^npm downloaded @tensorflow\/tfjs-node-gpu, but its install script could not download libtensorflow/);
    assert.match(m, /from https:\/\/storage\.googleapis\.com: Error: getaddrinfo ENOTFOUND storage\.googleapis\.com\./);
    assert.match(m, /HTTPS_PROXY/);
    assert.match(m, /TFJS_NODE_CDN_STORAGE/);
    assert.match(m, /npm install --prefix \/home\/u\/engines/);
  });

  it('says the registry is unreachable, quoting npm’s reason (real npm output)', () => {
    const lines = [
      'npm error code ENOTFOUND',
      'npm error syscall getaddrinfo',
      'npm error errno ENOTFOUND',
      'npm error network request to http://registry.nonexistent.invalid/@tensorflow%2ftfjs-node-gpu failed, reason: getaddrinfo ENOTFOUND registry.nonexistent.invalid',
      'npm error network This is a problem related to network connectivity.',
    ];
    const m = explainNpmFailure({ ...base(lines), registry: 'http://registry.nonexistent.invalid/' });
    assert.match(m, /^npm could not reach http:\/\/registry\.nonexistent\.invalid\/: request to http:\/\/registry\.nonexistent\.invalid\/@tensorflow%2ftfjs-node-gpu failed, reason: getaddrinfo ENOTFOUND/);
    assert.match(m, /proxy/);
    assert.equal(npmErrorCode(lines), 'ENOTFOUND');
  });

  it('names a version the registry does not have (real ETARGET output)', () => {
    const lines = [
      'npm error code ETARGET',
      'npm error notarget No matching version found for @tensorflow/tfjs-node-gpu@9.9.9.',
      "npm error notarget In most cases you or one of your dependencies are requesting a package version that doesn't exist.",
      'npm error A complete log of this run can be found in: /root/.npm/_logs/x-debug-0.log',
    ];
    const m = explainNpmFailure({ ...base(lines), spec: '@tensorflow/tfjs-node-gpu@9.9.9' });
    assert.equal(m, 'The registry has no @tensorflow/tfjs-node-gpu@9.9.9: No matching version found for @tensorflow/tfjs-node-gpu@9.9.9. Check the version (Lesion Lab uses 4.22.0) and the registry.');
    assert.deepEqual(npmErrorSummary(lines), [
      'No matching version found for @tensorflow/tfjs-node-gpu@9.9.9',
      "In most cases you or one of your dependencies are requesting a package version that doesn't exist",
    ]);
  });

  it('explains a failed source build of the binding', () => {
    const lines = [
      'node-pre-gyp info check checked for "/x/lib/napi-v8/tfjs_binding.node" (not found)',
      'node-pre-gyp http GET https://storage.googleapis.com/tf-builds/pre-built-binary/napi-v8/4.22.0/GPU-linux-4.22.0.tar.gz',
      'gyp ERR! find Python Python is not set from command line or npm configuration',
      'npm error command failed',
      'npm error command sh -c node scripts/install.js gpu download',
    ];
    const m = explainNpmFailure(base(lines));
    assert.match(m, /native binding could not be downloaded prebuilt, and building it from source failed \(gyp ERR! find Python/);
    assert.match(m, /Python 3 and a C\+\+ compiler/);
  });

  it('explains a full disk and missing permissions', () => {
    assert.match(explainNpmFailure(base(['npm error code ENOSPC', 'npm error nospc ENOSPC: no space left on device, write'])), /disk holding .* is full/);
    assert.match(explainNpmFailure(base(['npm error code EACCES', "npm error syscall mkdir"])), /may not write to/);
  });

  it('falls back to npm’s own words and the exit code', () => {
    const m = explainNpmFailure({ ...base(['npm error code EWEIRD', 'npm error something odd happened']), exitCode: 7 });
    assert.match(m, /^npm could not install @tensorflow\/tfjs-node-gpu@4\.22\.0 \(EWEIRD\): something odd happened\. The npm output/);
  });
});

describe('explainLoadFailure', () => {
  it('turns a missing CUDA 11 runtime into the CUDA 11.2 + cuDNN 8.1 requirement', () => {
    const m = explainLoadFailure('tfjs-node-gpu', 'libcudart.so.11.0: cannot open shared object file: No such file or directory', '/e');
    assert.match(m, /^@tensorflow\/tfjs-node-gpu is installed in \/e, but it does not load: libcudart\.so\.11\.0 was not found\. CUDA 11\.2 and cuDNN 8\.1 are required/);
    assert.match(m, /LD_LIBRARY_PATH/);
    assert.match(explainLoadFailure('tfjs-node-gpu', 'libcudnn.so.8: cannot open shared object file', '/e'), /libcudnn\.so\.8 was not found/);
    assert.match(explainLoadFailure('tfjs-node-gpu', 'The specified module could not be found. cudart64_110.dll', 'C:\\e'), /cudart64_110\.dll was not found.*PATH/);
  });

  it('recognises an old glibc, a missing binding and a missing libtensorflow', () => {
    assert.match(explainLoadFailure('tfjs-node', "/lib/x86_64-linux-gnu/libm.so.6: version `GLIBC_2.29' not found", '/e'), /C library is older/);
    assert.match(explainLoadFailure('tfjs-node', "Cannot find module '/e/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node'", '/e'), /install script did not run to the end/);
    assert.match(explainLoadFailure('tfjs-node', 'libtensorflow.so.2: cannot open shared object file', '/e'), /libtensorflow is missing/);
  });

  it('passes anything else through with the first line', () => {
    assert.equal(explainLoadFailure('tfjs-node', 'boom\n  at x', '/e'), '@tensorflow/tfjs-node is installed in /e, but it does not load: boom');
  });
});

describe('shellQuote', () => {
  it('quotes only what needs it', () => {
    assert.equal(shellQuote('/home/u/engines', 'linux'), '/home/u/engines');
    assert.equal(shellQuote("/home/u/it's here", 'linux'), `'/home/u/it'\\''s here'`);
    assert.equal(shellQuote('C:\\Users\\u\\Code Data', 'win32'), '"C:\\Users\\u\\Code Data"');
  });
});
