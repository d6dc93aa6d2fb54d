import assert from 'node:assert/strict';
import { validateBackendEvent, validateBackendMessage, validateHostToBackend } from '../../../src/shared/protocol/backend';
import { validateHostToWebview, validateWebviewToHost } from '../../../src/shared/protocol/webview';

describe('protocol validators', () => {
  it('accepts well-formed backend events', () => {
    const events: unknown[] = [
      { type: 'log', level: 'info', message: 'hi' },
      { type: 'progress', task: 'validate', done: 3, total: 10, unit: 'image', rate: 1.5, etaSeconds: 4.6 },
      { type: 'error', message: 'metadata missing; run prepare' },
      { type: 'job/didEnd', status: 'cancelled', exitCode: 130 },
      {
        type: 'engines/didDetect',
        engines: [{ name: 'cpu', available: true, reason: 'always', gpu: false }],
        selected: { engine: 'cpu', reason: 'only one' },
      },
    ];
    for (const e of events) assert.equal(validateBackendEvent(e).ok, true, JSON.stringify(e));
  });

  it('rejects unknown types, missing fields and wrong field types with a message naming the path', () => {
    const cases: [unknown, RegExp][] = [
      [null, /no string "type"/],
      [{ type: 'nope' }, /unknown type "nope"/],
      [{ type: 'progress', task: 'x', done: '3', total: 10, unit: 'image' }, /progress\.done should be a number/],
      [{ type: 'log', level: 'loud', message: 'x' }, /progress|log\.level should be one of debug, info, warn/],
      [{ type: 'job/didEnd', status: 'ok', exitCode: 0 }, /status should be one of done, failed, cancelled/],
      [{ type: 'engines/didDetect', engines: [{ name: 'cuda', available: true, reason: '', gpu: true }], selected: { engine: 'cpu', reason: '' } }, /engines\[0\]\.name/],
      [{ type: 'progress', task: 'x', done: Number.NaN, total: 1, unit: 'u' }, /done should be a number/],
    ];
    for (const [value, pattern] of cases) {
      const r = validateBackendEvent(value);
      assert.equal(r.ok, false, JSON.stringify(value));
      if (!r.ok) assert.match(r.error, pattern);
    }
  });

  it('validates IPC envelopes in both directions', () => {
    assert.equal(validateBackendMessage({ type: 'backend/ready', pid: 1, version: '0.1.0' }).ok, true);
    assert.equal(validateBackendMessage({ type: 'job/event', jobId: 'j', event: { type: 'log', level: 'info', message: 'x' } }).ok, true);
    const bad = validateBackendMessage({ type: 'job/event', jobId: 'j', event: { type: 'log' } });
    assert.equal(bad.ok, false);
    assert.equal(validateHostToBackend({ type: 'job/start', jobId: 'a', request: { command: 'engines' } }).ok, true);
    assert.equal(validateHostToBackend({ type: 'job/start', jobId: 'a' }).ok, false);
    assert.equal(validateHostToBackend({ type: 'job/cancel', jobId: 'a' }).ok, true);
  });

  it('only lets webviews run allow-listed commands', () => {
    assert.equal(validateWebviewToHost('sidebar', { type: 'ready', view: 'sidebar' }).ok, true);
    assert.equal(validateWebviewToHost('sidebar', { type: 'command/run', command: 'lesionLab.train' }).ok, true);
    assert.equal(validateWebviewToHost('sidebar', { type: 'command/run', command: 'workbench.action.terminal.sendSequence' }).ok, false);
    assert.equal(validateWebviewToHost('sidebar', { type: 'ready', view: 'elsewhere' }).ok, false);
  });

  it('scopes each view to its own protocol: a panel cannot send another view’s messages', () => {
    assert.equal(validateWebviewToHost('samples', { type: 'samples/show', dx: 'nv', source: 'train', page: 0, seed: 1 }).ok, true);
    const foreign = validateWebviewToHost('samples', { type: 'training/start', id: 'samples-1', params: {} });
    assert.equal(foreign.ok, false);
    if (!foreign.ok) assert.match(foreign.error, /the samples view sent "training\/start", which belongs to another view's protocol/);
    assert.equal(validateWebviewToHost('dataset', { type: 'prediction/run', tta: true, calibrated: false }).ok, false);
    assert.equal(validateWebviewToHost('prediction', { type: 'prediction/run', tta: true, calibrated: false }).ok, true);
    assert.equal(validateWebviewToHost('prediction', { type: 'prediction/run', tta: true }).ok, false, 'calibrated is required');
    assert.equal(validateWebviewToHost('evaluation', { type: 'evaluation/select', set: 'test' }).ok, true);
    assert.equal(validateWebviewToHost('evaluation', { type: 'evaluation/gradcam', file: '' }).ok, false, 'a file to explain');
    assert.equal(validateWebviewToHost('training', { type: 'evaluation/thumbnails', files: ['a.jpg'] }).ok, false);
  });

  it('checks host snapshots before a webview renders them, and only its own', () => {
    assert.equal(validateHostToWebview('training', { type: 'training/state', state: { status: 'empty', epochs: [] } }).ok, true);
    assert.equal(validateHostToWebview('training', { type: 'training/state', state: { status: 'running', epochs: [{ epoch: 1 }] } }).ok, false);
    assert.equal(validateHostToWebview('sidebar', { type: 'sidebar/state', state: { runs: [], trusted: true } }).ok, true);
    assert.equal(validateHostToWebview('dataset', { type: 'sidebar/state', state: { runs: [], trusted: true } }).ok, false);
  });

  it('responses carry a result, or an error that says why', () => {
    assert.equal(validateHostToWebview('sidebar', { type: 'response', id: 'sidebar-1', ok: true, result: { run: '/r' } }).ok, true);
    assert.equal(validateHostToWebview('sidebar', { type: 'response', id: 'sidebar-1', ok: false, error: 'busy' }).ok, true);
    assert.equal(validateHostToWebview('sidebar', { type: 'response', id: 'sidebar-1', ok: false }).ok, false);
    assert.equal(validateHostToWebview('sidebar', { type: 'response', ok: true, result: null }).ok, false);
  });
});
