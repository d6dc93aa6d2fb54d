/**
 * No `--flag` text outside the CLI. Three sources of words reach a person in VS Code: the extension's own
 * messages (notifications, progress titles, quick picks, input boxes, refusals shown in the Run form), the
 * webviews' text, and the backend's errors and engine reasons, which pass through inUiWords on their way in
 * (JobRunner). All three are read from the source here with the TypeScript parser, so a message added
 * tomorrow is checked too.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { COMMANDS } from '../../../src/backend/commands';
import { OPTION_WORDS, eventInUiWords, inUiWords } from '../../../src/extension/uiWords';

const ROOT = path.resolve(__dirname, '../../..');
/** A CLI flag, or the CLI by name, in prose. */
const CLI_TALK = /(^|[\s(“"'`])--[a-z][a-z-]*|\blesion-lab [a-z][a-z-]+/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.ts$/.test(name) && !name.endsWith('.d.ts') ? [full] : [];
  });
}

interface Literal {
  file: string;
  line: number;
  /** The text, with each `${…}` of a template as "X". */
  text: string;
  node: ts.Node;
}

/** Every string and template literal in the files, except module specifiers. */
function literals(files: readonly string[]): Literal[] {
  const out: Literal[] = [];
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return;
      let text: string | undefined;
      if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) text = node.text;
      else if (ts.isTemplateExpression(node)) text = node.head.text + node.templateSpans.map((s) => `X${s.literal.text}`).join('');
      if (text !== undefined) {
        out.push({ file: path.relative(ROOT, file), line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, text, node });
        if (ts.isTemplateExpression(node)) node.templateSpans.forEach((s) => visit(s.expression));
        return;
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return out;
}

/** The name of the function a literal is an argument of (`appendLine`, `showWarningMessage` …), looking through templates and `?:`. */
function calleeOf(node: ts.Node): string | undefined {
  let n: ts.Node = node;
  while (n.parent && (ts.isTemplateSpan(n.parent) || ts.isTemplateExpression(n.parent) || ts.isConditionalExpression(n.parent) || ts.isParenthesizedExpression(n.parent) || ts.isBinaryExpression(n.parent))) n = n.parent;
  const call = n.parent;
  if (!call || !(ts.isCallExpression(call) || ts.isNewExpression(call))) return undefined;
  const e = call.expression;
  return ts.isPropertyAccessExpression(e) ? e.name.text : ts.isIdentifier(e) ? e.text : undefined;
}

/** Written to the log (the Output channel is the log, where CLI terms are fine), not shown as a message. */
const LOG_CALLS = new Set(['appendLine', 'log', 'debug', 'warn']);

describe('extension/uiWords: messages in the UI’s language, never the CLI’s', () => {
  it('every user-facing string in src/extension and webview/ is free of --flags and lesion-lab commands', () => {
    const shown = literals([...sourceFiles(path.join(ROOT, 'src/extension')), ...sourceFiles(path.join(ROOT, 'webview'))])
      .filter((l) => !LOG_CALLS.has(calleeOf(l.node) ?? ''));
    assert.ok(shown.length > 400, `the scan finds the strings (${shown.length})`);
    // A string without a space is a name, not prose: a CSS custom property (--vscode-foreground), an argv item.
    const cli = shown.filter((l) => /\s/.test(l.text.trim()) && CLI_TALK.test(l.text));
    assert.deepEqual(cli.map((l) => `${l.file}:${l.line} ${l.text}`), []);
  });

  it('lists every notification, and each warning or error names its next step as a button', () => {
    const files = sourceFiles(path.join(ROOT, 'src/extension'));
    const calls: { where: string; kind: string; message: string; buttons: number }[] = [];
    for (const file of files) {
      const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
      const visit = (node: ts.Node): void => {
        if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && /^show(Information|Warning|Error)Message$/.test(node.expression.name.text)) {
          const [first, ...rest] = node.arguments;
          // A modal dialog's options object is not a button; a spread (…actions) counts as buttons given.
          const buttons = rest.filter((a) => !ts.isObjectLiteralExpression(a)).length;
          calls.push({ where: `${path.relative(ROOT, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`, kind: node.expression.name.text, message: first?.getText(source) ?? '', buttons });
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    assert.ok(calls.length >= 25, `found the notifications (${calls.length})`);
    // JobRunner.showError's callers pass the message through; its own call has the buttons.
    const silent = calls.filter((c) => c.kind !== 'showInformationMessage' && c.buttons === 0);
    assert.deepEqual(silent.map((c) => `${c.where} ${c.message.slice(0, 100)}`), [], 'warnings and errors without a button for the next step');
  });

  it('every backend message, as the extension shows it, names Run form fields and palette commands instead of flags', () => {
    // The CLI's own files (usage, help, human output) are for the terminal only.
    const cliOnly = new Set(['src/backend/cli.ts', 'src/backend/args.ts', 'src/backend/commands.ts', 'src/backend/humanOutput.ts']);
    const prose = literals(sourceFiles(path.join(ROOT, 'src/backend')))
      .filter((l) => !cliOnly.has(l.file) && / /.test(l.text.trim()) && CLI_TALK.test(l.text))
      // Lines of a script or manifest written for another program (`#SBATCH --time=…`, a YAML comment) are not prose.
      .filter((l) => !l.text.startsWith('#'));
    assert.ok(prose.length > 50, `the scan finds the backend's advice (${prose.length})`);
    // A command for another program (npm, Slurm's sbatch) is quoted as code; its own flags are its business.
    const leftover = prose
      .map((l) => ({ ...l, ui: inUiWords(l.text).replace(/`(npm|sbatch) [^`]*`/g, '') }))
      .filter((l) => CLI_TALK.test(l.ui));
    assert.deepEqual(leftover.map((l) => `${l.file}:${l.line}\n    ${l.text}\n  → ${l.ui}`), []);
  });

  it('words every option of every CLI command', () => {
    const flags = new Set(COMMANDS.flatMap((c) => c.options.map((o) => o.name)));
    assert.deepEqual([...flags].filter((f) => !(f in OPTION_WORDS)), [], 'options without UI words');
  });

  it('rewrites the messages the issue found, in words a person can act on', () => {
    const offline = 'Could not look up the server storage.googleapis.com for https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5 (ENOTFOUND). Check your connection or download https://storage.googleapis.com/x.h5 yourself and give its path to --weights.';
    assert.equal(
      inUiWords(offline),
      'Could not look up the server storage.googleapis.com for https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5 (ENOTFOUND). Check your connection or download https://storage.googleapis.com/x.h5 yourself and pick it with Browse… beside “Weights” in the Run form.',
    );
    assert.equal(
      inUiWords('No prepared dataset in /w/prepared (no manifest.json). Run `lesion-lab prepare --data <dataset folder> --out /w/prepared` first.'),
      'No prepared dataset in /w/prepared (no manifest.json). Run Lesion Lab: Prepare Dataset… first.',
    );
    assert.equal(
      inUiWords('The webgpu engine failed: out of memory. Try a smaller --batch (now 32) or another --engine; the last checkpoint is kept and --resume continues from it.'),
      'The webgpu engine failed: out of memory. Try a smaller “Batch” (now 32) or another engine (Lesion Lab: Select Engine); the last checkpoint is kept and Resume continues from it.',
    );
    assert.equal(inUiWords('MobileNetV2 needs an input size of at least 32 pixels (got 16); try --size 224, or 96 for a quick run.'), 'MobileNetV2 needs an input size of at least 32 pixels (got 16); try “Image size” 224, or 96 for a quick run.');
  });

  it('translates the events that carry backend text into the UI, and leaves the rest alone', () => {
    const error = eventInUiWords({ type: 'error', message: 'Use --resume to continue it, or give a new --run folder.' });
    assert.deepEqual(error, { type: 'error', message: 'Use Resume to continue it, or start a new run.' });
    const engines = eventInUiWords({
      type: 'engines/didDetect',
      engines: [{ name: 'wasm', available: false, gpu: false, reason: 'missing files; choose --engine cpu' }],
      selected: { engine: 'cpu', reason: 'the only one; or use --engine wasm' },
    });
    assert.ok(engines.type === 'engines/didDetect');
    assert.deepEqual([engines.engines[0]!.reason, engines.selected.reason], ['missing files; choose the cpu engine (Lesion Lab: Select Engine)', 'the only one; or use the wasm engine (Lesion Lab: Select Engine)']);
    const log = { type: 'log' as const, level: 'warn' as const, message: 'training from random weights (--weights none)' };
    assert.equal(eventInUiWords(log), log, 'the log keeps the CLI’s terms');
  });
});
