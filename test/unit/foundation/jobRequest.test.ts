import assert from 'node:assert/strict';
import type { CommandSpec } from '../../../src/backend/commands';
import { COMMANDS, requestFromArgv } from '../../../src/backend/commands';
import type { OptionSpec } from '../../../src/backend/args';
import { validateJobRequest } from '../../../src/shared/protocol/jobs';
import { validateHostToBackend } from '../../../src/shared/protocol/backend';

const numeric = (o: OptionSpec): boolean => o.kind === 'int' || o.kind === 'number';

/** The smallest command line the CLI accepts: required options and positionals only. */
function minimalArgv(c: CommandSpec): string[] {
  const argv: string[] = [];
  for (const o of c.options.filter((o) => o.required || o.requiredUnless || o.name === c.exactlyOne?.[0])) argv.push(`--${o.name}`, o.choices?.[0] ?? (numeric(o) ? String(o.min ?? 1) : 'x'));
  for (let i = 0; i < (c.positional?.min ?? 0); i++) argv.push(`image${i}.jpg`);
  return argv;
}

/** `extra`, plus the options it needs (e.g. train's --fold needs --folds), each at its smallest value. */
function withPartners(c: CommandSpec, extra: string[]): string[] {
  const out = [...extra];
  for (let i = 0; i < out.length; i++) {
    const needs = c.options.find((o) => `--${o.name}` === out[i])?.needs;
    const partner = c.options.find((o) => o.name === needs);
    if (partner && !out.includes(`--${partner.name}`)) out.push(`--${partner.name}`, String(partner.min ?? 1));
  }
  return out;
}

const request = (c: CommandSpec, extra: string[]): unknown => requestFromArgv(c, [...minimalArgv(c), ...withPartners(c, extra)]).request;

/** The path of the one leaf where two requests differ, e.g. ['options', 'valFraction']. */
function differingPath(a: unknown, b: unknown, at: string[] = []): string[] | undefined {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b) ? undefined : at;
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const d = differingPath((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], [...at, k]);
    if (d) return d;
  }
  return undefined;
}

function withValue(req: unknown, pathTo: string[], value: unknown): unknown {
  const copy = structuredClone(req) as Record<string, unknown>;
  let node = copy;
  for (const k of pathTo.slice(0, -1)) node = node[k] as Record<string, unknown>;
  node[pathTo.at(-1)!] = value;
  return copy;
}


describe('job requests: validated where they arrive from another process', () => {
  for (const c of COMMANDS) {
    it(`${c.name}: what the CLI builds passes, every choice and both ends of every range included; one step past a range fails`, () => {
      const base = request(c, []);
      assert.deepEqual(validateJobRequest(base), { ok: true, value: base });
      for (const o of c.options) {
        for (const choice of o.choices ?? []) {
          const r = validateJobRequest(request(c, [`--${o.name}`, choice]));
          assert.ok(r.ok, `--${o.name} ${choice}: ${r.ok ? '' : r.error}`);
        }
        if (!numeric(o)) continue;
        const step = o.kind === 'int' ? 1 : 0.01;
        const low = o.min ?? (o.max !== undefined ? o.max - 2 * step : 3);
        const high = o.max ?? low + 2 * step;
        const atLow = request(c, [`--${o.name}`, String(low)]);
        const atHigh = request(c, [`--${o.name}`, String(high)]);
        for (const r of [atLow, atHigh]) assert.ok(validateJobRequest(r).ok, `--${o.name} at its CLI bound: ${JSON.stringify(validateJobRequest(r))}`);
        const key = differingPath(atLow, atHigh);
        assert.ok(key, `--${o.name} changes the request`);
        if (o.min !== undefined) assert.equal(validateJobRequest(withValue(atLow, key, o.min - step)).ok, false, `${key.join('.')} below ${o.min} is refused`);
        if (o.max !== undefined) assert.equal(validateJobRequest(withValue(atHigh, key, o.max + step)).ok, false, `${key.join('.')} above ${o.max} is refused`);
        if (o.kind === 'int') assert.equal(validateJobRequest(withValue(atLow, key, low + 0.5)).ok, false, `${key.join('.')} must be whole`);
      }
    });
  }

  it('refuses, naming the field: an unknown command, a missing or extra option, a wrong type, a value outside its choices', () => {
    const train = request(COMMANDS.find((c) => c.name === 'train')!, []) as { command: string; options: Record<string, unknown> };
    const cases: [unknown, RegExp][] = [
      [{ command: 'rm-rf' }, /command should be one of engines, /],
      [{ command: 'engines', options: { all: true } }, /engines takes no options/],
      [{ command: 'train', options: { ...train.options, prepared: 5 } }, /options\.prepared should be a string/],
      [{ command: 'train', options: { ...train.options, prepared: '' } }, /options\.prepared should not be empty/],
      [{ command: 'train', options: { ...train.options, epochs: '10' } }, /options\.epochs should be a number, got string/],
      [{ command: 'train', options: { ...train.options, model: 'vgg16' } }, /options\.model should be one of resnet50, /],
      [{ command: 'train', options: { ...train.options, shell: 'calc.exe' } }, /options has unexpected field "shell"/],
      [{ ...train, extra: 1 }, /unexpected field "extra"/],
      [{ command: 'predict', options: { run: '/r', images: [], tta: false } }, /options\.images should have at least 1 item/],
    ];
    for (const [value, pattern] of cases) {
      const r = validateJobRequest(value);
      assert.equal(r.ok, false, JSON.stringify(value));
      if (!r.ok) assert.match(r.error, pattern);
    }
  });

  it('the IPC envelope carries the same check: job/start with a malformed request is refused', () => {
    assert.equal(validateHostToBackend({ type: 'job/start', jobId: 'j', request: { command: 'engines' } }).ok, true);
    const bad = validateHostToBackend({ type: 'job/start', jobId: 'j', request: { command: 'augment', options: { prepared: '/p' } } });
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.match(bad.error, /request\.options\.target should be a number/);
  });
});
