/**
 * Finds an npm to run. VS Code's extension host runs on Electron's Node, which ships without npm,
 * so npm has to come from a Node.js installation: the `npm` on PATH, else one next to the Node
 * that runs this process (a plain `node dist/backend/cli.js` from a Node.js install).
 */
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

export interface NpmCommand {
  /** Executable to spawn. */
  command: string;
  /** Arguments before npm's own (the npm-cli.js script when `command` is a Node). */
  prefixArgs: string[];
  /**
   * `command` is Windows' npm.cmd (no npm-cli.js found beside it): a batch file only cmd.exe can run. It is
   * started as `cmd.exe /d /s /c "<line>"` with the line quoted here (npmInvocation), never through Node's
   * `shell` option, which passes arguments to cmd.exe unquoted.
   */
  viaCmd?: boolean;
  /** Folder of the Node that runs npm, put first on PATH so install scripts' `node` is the same one. */
  nodeDir?: string;
  /** Where it was found, for the log. */
  describe: string;
}

export interface NpmSearch {
  pathEnv: string;
  execPath: string;
  platform: NodeJS.Platform;
  exists(file: string): boolean;
  realpath(file: string): string;
}

export function realNpmSearch(): NpmSearch {
  return {
    pathEnv: process.env.PATH ?? process.env.Path ?? '',
    execPath: process.execPath,
    platform: process.platform,
    exists: existsSync,
    realpath: (f) => realpathSync(f),
  };
}

export function findNpm(search: NpmSearch = realNpmSearch()): NpmCommand | undefined {
  const p = search.platform === 'win32' ? path.win32 : path.posix;
  const pathDirs = search.pathEnv.split(search.platform === 'win32' ? ';' : ':').filter(Boolean);
  const dirs = [...new Set([...pathDirs, p.dirname(search.execPath)])];
  const nodeName = search.platform === 'win32' ? 'node.exe' : 'node';
  const nodeOnPath = pathDirs.map((d) => p.join(d, nodeName)).find((f) => search.exists(f));
  // Electron (VS Code) can run npm-cli.js too, but install scripts call `node`, so prefer a real one.
  const execIsNode = /^node(\.exe)?$/i.test(p.basename(search.execPath));
  for (const dir of dirs) {
    const nodeHere = p.join(dir, nodeName);
    const node = search.exists(nodeHere) ? nodeHere : (nodeOnPath ?? (execIsNode ? search.execPath : undefined));
    if (search.platform === 'win32') {
      const cmd = p.join(dir, 'npm.cmd');
      if (!search.exists(cmd)) continue;
      const cli = p.join(dir, 'node_modules', 'npm', 'bin', 'npm-cli.js');
      if (node && search.exists(cli)) return { command: node, prefixArgs: [cli], nodeDir: p.dirname(node), describe: `${cli} (run by ${node})` };
      return { command: cmd, prefixArgs: [], viaCmd: true, describe: cmd };
    }
    const launcher = p.join(dir, 'npm');
    if (!search.exists(launcher)) continue;
    let target = launcher;
    try {
      target = search.realpath(launcher);
    } catch {
      // a dangling link: try the launcher itself
    }
    if (node && target.endsWith('.js')) {
      return { command: node, prefixArgs: [target], nodeDir: p.dirname(node), describe: `${target} (run by ${node})` };
    }
    // A wrapper (volta, asdf shims): it finds its own node.
    return { command: launcher, prefixArgs: [], nodeDir: node ? p.dirname(node) : undefined, describe: launcher };
  }
  return undefined;
}

/** Quotes an argument for a command line a person copies into a terminal. */
export function shellQuote(arg: string, platform: NodeJS.Platform = process.platform): string {
  if (/^[\w@%+=:,./\\-]+$/.test(arg)) return arg;
  return platform === 'win32' ? `"${arg.replace(/"/g, '""')}"` : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** What to spawn for `npm <args>`. */
export interface NpmInvocation {
  command: string;
  args: string[];
  /** Hand `args` to the process as written (cmd.exe parses its own command line). */
  windowsVerbatimArguments: boolean;
}

export function npmInvocation(npm: NpmCommand, args: readonly string[], comspec: string = process.env.ComSpec ?? 'cmd.exe'): NpmInvocation {
  const all = [...npm.prefixArgs, ...args];
  if (!npm.viaCmd) return { command: npm.command, args: all, windowsVerbatimArguments: false };
  return { command: comspec, args: ['/d', '/s', '/c', `"${cmdCommandLine(npm.command, all)}"`], windowsVerbatimArguments: true };
}

// What cmd.exe treats specially outside quotes; a caret makes each one literal.
const CMD_META = /([()\][%!^"`<>&|;, *?])/g;

/**
 * The command line cmd.exe gets for running a batch file with these arguments, so that the program the
 * batch file starts (node, for npm.cmd) receives each argument exactly — spaces, `&`, `^`, quotes and
 * trailing backslashes included. Each argument is first quoted for the C runtime's argv parser
 * (backslashes before a quote doubled, the quote escaped), then every character cmd.exe would act on is
 * escaped with a caret — twice for a batch file, whose `%*` is parsed by cmd.exe once more. The batch
 * file's own path is quoted (a Windows path cannot hold a quote). `%` is escaped as well, but cmd.exe
 * expands `%NAME%` before it looks at escapes, so an argument naming a defined variable that way could
 * still change; none of the arguments Lesion Lab passes to npm has that form.
 */
export function cmdCommandLine(file: string, args: readonly string[]): string {
  const batch = /\.(cmd|bat)$/i.test(file);
  return [`"${file}"`, ...args.map((a) => cmdArgument(a, batch))].join(' ');
}

function cmdArgument(arg: string, batch: boolean): string {
  const forArgv = `"${arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\*)$/, '$1$1')}"`;
  const once = forArgv.replace(CMD_META, '^$1');
  return batch ? once.replace(CMD_META, '^$1') : once;
}
