/**
 * Command-line parsing for `lesion-lab <command> [options]`, driven by the declarative specs in
 * `commands.ts`. Pure: no I/O, so it is unit-tested directly. Any mistake becomes a `UsageError`
 * (exit 2 with usage), never a stack trace.
 */
import { assertNever } from '../shared/assertNever';

export type OptionKind = 'string' | 'number' | 'int' | 'boolean' | 'list';

export interface OptionSpec {
  /** Flag name without the leading dashes, e.g. "val-fraction". */
  name: string;
  kind: OptionKind;
  help: string;
  choices?: readonly string[];
  default?: string | number | boolean | string[];
  required?: boolean;
  /** Required unless this boolean option is given (e.g. train's --prepared, unless --resume). */
  requiredUnless?: string;
  /** Given only together with this option (e.g. train's --fold with --folds). */
  needs?: string;
  min?: number;
  max?: number;
  /** Name shown in help for the value, e.g. DIR. */
  metavar?: string;
}

export type OptionValue = string | number | boolean | string[] | undefined;

export interface ParsedArgs {
  values: Record<string, OptionValue>;
  /** The options given on the command line (the rest of `values` are defaults). */
  given: string[];
  positionals: string[];
  json: boolean;
}

export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose usage to show, if known. */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface PositionalSpec {
  name: string;
  min: number;
  help: string;
}

/** Parses the arguments after the command name. `--json` is accepted by every command. */
export function parseOptions(
  command: string,
  argv: readonly string[],
  options: readonly OptionSpec[],
  positional?: PositionalSpec,
): ParsedArgs {
  const byName = new Map(options.map((o) => [o.name, o]));
  const values: Record<string, OptionValue> = {};
  const positionals: string[] = [];
  const given: string[] = [];
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '--') {
      if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
        throw new UsageError(`unknown option "${arg}" (options are spelled --name)`, command);
      }
      positionals.push(arg);
      continue;
    }
    let name = arg.slice(2);
    let inline: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      inline = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (name === 'json') {
      json = true;
      continue;
    }
    const spec = byName.get(name);
    if (!spec) {
      const known = options.map((o) => `--${o.name}`).join(', ');
      throw new UsageError(`unknown option --${name} for "${command}"${known ? ` (known: ${known}, --json)` : ''}`, command);
    }
    if (!given.includes(name)) given.push(name);
    if (spec.kind === 'boolean') {
      if (inline === undefined) values[name] = true;
      else if (inline === 'true' || inline === 'false') values[name] = inline === 'true';
      else throw new UsageError(`--${name} takes no value or true/false, got "${inline}"`, command);
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new UsageError(`--${name} needs a value${spec.metavar ? ` (${spec.metavar})` : ''}`, command);
      }
      raw = next;
      i++;
    }
    values[name] = convert(command, spec, raw);
  }
  for (const spec of options) {
    if (values[spec.name] === undefined) {
      if (spec.required) throw new UsageError(`--${spec.name} is required`, command);
      if (spec.requiredUnless && (values[spec.requiredUnless] === undefined || values[spec.requiredUnless] === false)) throw new UsageError(`--${spec.name} is required (unless --${spec.requiredUnless})`, command);
      if (spec.default !== undefined) values[spec.name] = spec.default;
    } else if (spec.needs && values[spec.needs] === undefined) {
      throw new UsageError(`--${spec.name} needs --${spec.needs}`, command);
    }
  }
  if (positional) {
    if (positionals.length < positional.min) {
      throw new UsageError(`expected at least ${positional.min} ${positional.name} argument(s)`, command);
    }
  } else if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}"`, command);
  }
  return { values, positionals, given, json };
}

function convert(command: string, spec: OptionSpec, raw: string): OptionValue {
  const name = `--${spec.name}`;
  switch (spec.kind) {
    case 'string':
      if (spec.choices && !spec.choices.includes(raw)) {
        throw new UsageError(`${name} must be one of ${spec.choices.join(', ')}, got "${raw}"`, command);
      }
      return raw;
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    case 'number':
    case 'int': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${name} must be a number, got "${raw}"`, command);
      if (spec.kind === 'int' && !Number.isInteger(n)) throw new UsageError(`${name} must be a whole number, got "${raw}"`, command);
      if (spec.min !== undefined && n < spec.min) throw new UsageError(`${name} must be at least ${spec.min}, got ${n}`, command);
      if (spec.max !== undefined && n > spec.max) throw new UsageError(`${name} must be at most ${spec.max}, got ${n}`, command);
      return n;
    }
    case 'boolean':
      return raw === 'true';
    default:
      return assertNever(spec.kind, 'option kind');
  }
}

/** Formats one command's usage block. */
export function formatUsage(
  command: string,
  summary: string,
  options: readonly OptionSpec[],
  positional?: PositionalSpec,
): string {
  const lines = [`lesion-lab ${command}${options.length ? ' [options]' : ''}${positional ? ` ${positional.name.toUpperCase()}…` : ''} [--json]`, `  ${summary}`];
  if (positional) lines.push(`  ${positional.name.toUpperCase()}…  ${positional.help}`);
  for (const o of options) {
    const value = o.kind === 'boolean' ? '' : ` ${o.metavar ?? (o.choices ? o.choices.join('|') : o.kind === 'list' ? 'A,B' : 'N')}`;
    const def = o.default !== undefined && o.kind !== 'boolean' ? ` (default ${Array.isArray(o.default) ? o.default.join(',') : o.default})` : '';
    const required = o.required ? ' (required)' : o.requiredUnless ? ` (required unless --${o.requiredUnless})` : '';
    lines.push(`  --${o.name}${value}`.padEnd(36) + ` ${o.help}${required || def}`);
  }
  return lines.join('\n');
}
