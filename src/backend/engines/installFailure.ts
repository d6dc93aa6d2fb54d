/**
 * Turns what npm and the native loader print into a sentence a person can act on. Pure functions
 * over text, so every case is unit-tested with real npm / loader output.
 */

export type EnginePackage = 'tfjs-node-gpu' | 'tfjs-node';

export interface NpmFailureContext {
  /** e.g. "@tensorflow/tfjs-node-gpu" */
  packageName: string;
  /** What npm was asked to install. */
  spec: string;
  dir: string;
  registry?: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** npm's output (stdout and stderr interleaved), without colour codes. */
  lines: readonly string[];
  /** The command a person can run in a terminal to try the same. */
  manualCommand: string;
}

const NETWORK_CODES = [
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'EPROTO',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
];
const NETWORK_RE = new RegExp(`\\b(${NETWORK_CODES.join('|')})\\b`);

const NPM_ERROR_RE = /^npm (?:error|ERR!)\s?/;

/** npm's error code (`npm error code ENOTFOUND`), if it printed one. */
export function npmErrorCode(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    const m = /^npm (?:error|ERR!) code (\S+)/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/** npm's own error block, without the `npm error` prefixes and the log-file footer. */
export function npmErrorSummary(lines: readonly string[], max = 6): string[] {
  return lines
    .filter((l) => NPM_ERROR_RE.test(l))
    .map((l) => l.replace(NPM_ERROR_RE, '').replace(/^(notarget|network|enoent) /, '').trim().replace(/\.$/, ''))
    .filter((l) => l && !/^(code|errno|syscall) /.test(l) && !/complete log of this run/i.test(l))
    .slice(0, max);
}

function firstMatch(lines: readonly string[], re: RegExp): string | undefined {
  return lines.find((l) => re.test(l))?.replace(NPM_ERROR_RE, '').trim();
}

/** The user-facing explanation of a failed `npm install`. */
export function explainNpmFailure(c: NpmFailureContext): string {
  const code = npmErrorCode(c.lines);
  const summary = npmErrorSummary(c.lines);
  // "request to https://… failed, reason: getaddrinfo ENOTFOUND …" says most; npm's "code ENOTFOUND" line least.
  const networkLine =
    firstMatch(c.lines, /failed, reason: /)?.replace(/^network /, '') ?? firstMatch(c.lines.filter((l) => !/^npm (?:error|ERR!) (code|errno|syscall) /.test(l)), NETWORK_RE);
  const scriptFailed = c.lines.some((l) => /^npm (?:error|ERR!) command failed/.test(l)) || c.lines.some((l) => /^npm (?:error|ERR!) (?:path|command) .*(scripts\/install\.js|node-pre-gyp)/.test(l));
  const mentionsLibtensorflow = c.lines.some((l) => /libtensorflow|storage\.googleapis\.com/.test(l));
  const again = `Then run “Install GPU Engine…” again, or run it yourself in a terminal: ${c.manualCommand}`;

  if (c.signal) {
    return `npm was stopped by ${c.signal} while installing ${c.packageName}. ${again}`;
  }
  // tfjs-node's install script downloads libtensorflow from Google's storage after npm itself succeeded.
  if (scriptFailed && mentionsLibtensorflow && (networkLine || /TAR_BAD_ARCHIVE|Z_DATA_ERROR|unexpected end of file/i.test(c.lines.join('\n')))) {
    const why = networkLine ?? firstMatch(c.lines, /TAR_BAD_ARCHIVE|Z_DATA_ERROR|unexpected end of file/i) ?? 'the download failed';
    return (
      `npm downloaded ${c.packageName}, but its install script could not download libtensorflow (the TensorFlow C library, ` +
      `hundreds of MB) from https://storage.googleapis.com: ${why}. ` +
      'This needs internet access to storage.googleapis.com: check the connection, set HTTPS_PROXY if you are behind a proxy, ' +
      `or set TFJS_NODE_CDN_STORAGE to a mirror of https://storage.googleapis.com/. ${again}`
    );
  }
  if (scriptFailed && c.lines.some((l) => /gyp ERR!|node-pre-gyp/.test(l))) {
    const why = firstMatch(c.lines, /gyp ERR! (?:find Python|stack Error|configure error)|not ok|Error:/) ?? summary[0] ?? 'see the log';
    return (
      `${c.packageName}'s native binding could not be downloaded prebuilt, and building it from source failed (${why}). ` +
      `Building needs Python 3 and a C++ compiler (Linux: build-essential; Windows: Visual Studio Build Tools). ${again}`
    );
  }
  if (scriptFailed) {
    return `npm installed ${c.packageName}, but its install script failed (${summary.slice(0, 3).join('; ') || `exit code ${c.exitCode}`}). The npm output is in the log. ${again}`;
  }
  if ((code && NETWORK_CODES.includes(code)) || (code === undefined && networkLine) || /^E5\d\d$/.test(code ?? '')) {
    const registry = c.registry ?? 'the npm registry (https://registry.npmjs.org/ unless your npm config says otherwise)';
    return (
      `npm could not reach ${registry}: ${networkLine ?? summary[0] ?? code}. ` +
      `Check the internet connection or your proxy (npm config set https-proxy …), or install from a reachable registry or mirror (--registry URL). ${again}`
    );
  }
  if (code === 'E404' || code === 'ETARGET') {
    return `The registry has no ${c.spec}: ${summary[0] ?? code}. Check the version (Lesion Lab uses 4.22.0) and the registry${c.registry ? ` (${c.registry})` : ''}.`;
  }
  if (code === 'ENOENT') {
    return `npm could not find something it needed while installing ${c.spec}: ${summary.find((l) => /ENOENT/.test(l)) ?? summary[0] ?? code}. If you gave a file with --spec, check that it exists.`;
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return `npm may not write to ${c.dir} (${code}): ${summary[0] ?? ''}. Give your user write access to that folder (do not run VS Code as root/administrator). ${again}`;
  }
  if (code === 'ENOSPC') {
    return `The disk holding ${c.dir} is full (ENOSPC). The GPU engine needs about 1 GB; free some space. ${again}`;
  }
  if (code === 'EINTEGRITY') {
    return `npm rejected the downloaded ${c.packageName}: its checksum does not match the registry's (EINTEGRITY). A proxy or mirror may have altered it; clear npm's cache (\`npm cache clean --force\` in a terminal). ${again}`;
  }
  if (code === 'EJSONPARSE') {
    return `npm could not read a package.json (EJSONPARSE): ${summary[0] ?? ''}. If it is ${c.dir}/package.json, delete it; Lesion Lab writes a fresh one. ${again}`;
  }
  const what = summary.length ? summary.slice(0, 3).join('; ') : `exit code ${c.exitCode}`;
  return `npm could not install ${c.spec} (${code ?? `exit code ${c.exitCode}`}): ${what}. The npm output is in the log. ${again}`;
}

const CUDA_LIB_RE = /\b(lib(?:cudart|cudnn|cublas|cublasLt|cufft|curand|cusolver|cusparse)\.so(?:\.[\d.]+)?|(?:cudart|cudnn|cublas|cublasLt|cufft|curand|cusolver|cusparse)64_\d+\.dll)\b/;

/** The user-facing explanation when the installed engine does not load in a fresh process. */
export function explainLoadFailure(pkg: EnginePackage, loaderMessage: string, dir: string): string {
  const name = `@tensorflow/${pkg}`;
  const first = loaderMessage.split('\n').find((l) => l.trim()) ?? loaderMessage;
  const installed = `${name} is installed in ${dir}, but it does not load`;
  const cuda = CUDA_LIB_RE.exec(loaderMessage);
  if (cuda) {
    return (
      `${installed}: ${cuda[1]} was not found. CUDA 11.2 and cuDNN 8.1 are required (libtensorflow 2.9.1 is built against them; ` +
      'CUDA 12 does not provide these libraries). Install the CUDA 11.2 toolkit and cuDNN 8.1 and put their library folders on ' +
      `${cuda[1]!.endsWith('.dll') ? 'PATH' : 'LD_LIBRARY_PATH'}, then restart VS Code — the engine is detected without reinstalling. ` +
      'Until then the webgpu engine uses the GPU without CUDA, or install the CPU build (tfjs-node).'
    );
  }
  if (/GLIBC(XX)?_\d/.test(loaderMessage)) {
    return `${installed}: this system's C library is older than libtensorflow needs (${first.trim()}). Use a newer Linux (Ubuntu 20.04 or later), or the webgpu / wasm engines.`;
  }
  if (/NODE_MODULE_VERSION|was compiled against a different Node\.js version/.test(loaderMessage)) {
    return `${installed}: its native binding was built for another Node.js version (${first.trim()}). Install it again with the Node.js that runs Lesion Lab.`;
  }
  if (/libtensorflow(_framework)?\.so|tensorflow\.dll/.test(loaderMessage)) {
    return `${installed}: libtensorflow is missing from the package (${first.trim()}); its download during install did not complete. Install it again.`;
  }
  if (/tfjs_binding\.node/.test(loaderMessage)) {
    return (
      `${installed}: its native binding (tfjs_binding.node) is missing, so the package's install script did not run to the end ` +
      '(npm configured with ignore-scripts, or install scripts not allowed). Install it again and check the npm output in the log.'
    );
  }
  return `${installed}: ${first.trim()}`;
}
