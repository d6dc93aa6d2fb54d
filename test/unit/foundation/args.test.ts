import assert from 'node:assert/strict';
import { UsageError, formatUsage, parseOptions } from '../../../src/backend/args';
import { COMMANDS, findCommand, requestFromArgv } from '../../../src/backend/commands';

const cmd = (name: string) => {
  const c = findCommand(name);
  if (!c) throw new Error(`no command ${name}`);
  return c;
};

describe('CLI argument parsing', () => {
  it('parses prepare with defaults from the CLI contract', () => {
    const { request, json } = requestFromArgv(cmd('prepare'), ['--data', '/d', '--out', '/o', '--json']);
    assert.equal(json, true);
    assert.deepEqual(request, { command: 'prepare', options: { data: '/d', out: '/o', split: 'lesion', valFraction: 0.2, seed: 101, link: 'hard', nearDuplicates: 'group', nearDuplicateDistance: 4 } });
  });

  it('accepts --name=value, lists, booleans and positionals', () => {
    const aug = requestFromArgv(cmd('augment'), ['--prepared=/p', '--skip', 'nv,bkl', '--target', '100']).request;
    assert.deepEqual(aug, { command: 'augment', options: { prepared: '/p', target: 100, skip: ['nv', 'bkl'], size: 224, seed: 1, concurrency: undefined } });
    const pred = requestFromArgv(cmd('predict'), ['--run', '/r', 'a.jpg', '--tta', 'b.jpg']).request;
    assert.deepEqual(pred, { command: 'predict', options: { run: '/r', model: undefined, images: ['a.jpg', 'b.jpg'], tta: true, gradcam: undefined, calibrated: false, engine: 'auto', threads: undefined } });
    const fromExport = requestFromArgv(cmd('predict'), ['--model', 'x/model.onnx', 'a.jpg']).request;
    assert.deepEqual(fromExport, { command: 'predict', options: { run: undefined, model: 'x/model.onnx', images: ['a.jpg'], tta: false, gradcam: undefined, calibrated: false, engine: 'auto', threads: undefined } });
    const exported = requestFromArgv(cmd('export'), ['--run', 'r', '--format', 'onnx']).request;
    assert.deepEqual(exported, { command: 'export', options: { run: 'r', format: 'onnx', checkpoint: 'best', out: undefined, engine: 'auto', threads: undefined } });
  });

  it('reads train options into a typed request', () => {
    const { request } = requestFromArgv(cmd('train'), ['--prepared', 'p', '--run', 'r', '--model', 'mobilenetv2', '--weights', 'none', '--size', '96', '--phase', 'both', '--engine', 'wasm', '--resume']);
    assert.equal(request.command, 'train');
    if (request.command !== 'train') return;
    assert.equal(request.options.model, 'mobilenetv2');
    assert.equal(request.options.size, 96);
    assert.equal(request.options.engine, 'wasm');
    assert.equal(request.options.resume, true);
    assert.equal(request.options.epochs, 10);
    assert.equal(request.options.batch, 32);
    assert.equal(request.options.threads, undefined, 'no --threads: the engine picks every physical core');
    for (const command of ['train', 'evaluate', 'predict']) {
      const argv = command === 'train' ? ['--prepared', 'p', '--run', 'r'] : command === 'predict' ? ['--run', 'r', 'a.jpg'] : ['--run', 'r'];
      const r = requestFromArgv(cmd(command), [...argv, '--threads', '3']).request as { options: { threads?: number } };
      assert.equal(r.options.threads, 3, command);
    }
  });

  it('turns every mistake into a UsageError that says what is wrong', () => {
    const cases: [string, string[], RegExp][] = [
      ['prepare', ['--data', 'x'], /--out is required/],
      ['prepare', ['--data', 'x', '--out', 'y', '--split', 'patient'], /--split must be one of lesion, image, got "patient"/],
      ['prepare', ['--data', 'x', '--out', 'y', '--val-fraction', 'lots'], /--val-fraction must be a number/],
      ['prepare', ['--data', 'x', '--out', 'y', '--val-fraction', '0.95'], /at most 0.9/],
      ['train', ['--prepared', 'p', '--run', 'r', '--epochs', '2.5'], /whole number/],
      ['train', ['--prepared', 'p', '--run', 'r', '--colour', 'red'], /unknown option --colour/],
      ['train', ['--prepared', 'p', '--run'], /--run needs a value/],
      ['engines', ['extra'], /unexpected argument "extra"/],
      ['engines', ['-x'], /unknown option "-x"/],
      ['predict', ['--run', 'r'], /at least 1 image/],
      ['predict', ['a.jpg'], /exactly one of --run, --model/],
      ['predict', ['--run', 'r', '--model', 'm.onnx', 'a.jpg'], /exactly one of --run, --model/],
      ['export', ['--run', 'r', '--format', 'pth'], /--format must be one of onnx, tfjs, keras/],
      ['export', ['--run', 'r', '--format', 'onnx', '--checkpoint', 'first'], /--checkpoint must be one of best, last/],
      ['export', ['--format', 'onnx'], /--run/],
      ['train', ['--prepared', 'p', '--run', 'r', '--resume=maybe'], /true\/false/],
      ['train', ['--prepared', 'p', '--run', 'r', '--threads', '0'], /--threads must be at least 1/],
      ['train', ['--prepared', 'p', '--run', 'r', '--folds', '5'], /--folds needs --fold/],
      ['train', ['--prepared', 'p', '--run', 'r', '--fold', '2'], /--fold needs --folds/],
    ];
    for (const [name, argv, pattern] of cases) {
      assert.throws(() => requestFromArgv(cmd(name), argv), (err: unknown) => err instanceof UsageError && pattern.test(err.message), `${name} ${argv.join(' ')}`);
    }
  });

  it('does not mistake a negative number for an option', () => {
    const parsed = parseOptions('t', ['--lr', '-0.5'], [{ name: 'lr', kind: 'number', help: '' }]);
    assert.equal(parsed.values.lr, -0.5);
  });

  it('documents every visible command and option in its usage', () => {
    for (const c of COMMANDS) {
      const text = formatUsage(c.name, c.summary, c.options, c.positional);
      assert.match(text, new RegExp(`^lesion-lab ${c.name}`));
      for (const o of c.options) assert.ok(text.includes(`--${o.name}`), `${c.name} usage lacks --${o.name}`);
    }
  });
});
