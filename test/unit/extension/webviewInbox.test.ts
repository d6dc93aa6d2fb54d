import assert from 'node:assert/strict';
import type { HostToWebview } from '../../../src/shared/protocol/webview';
import { RequestRefused, answer, receiveFromWebview } from '../../../src/extension/webviewInbox';

/** What the run form sends for its defaults (MobileNetV2-0.35 at 96 px, from scratch). */
const formRequest = {
  type: 'training/start',
  id: 'sidebar-1',
  params: { epochs: 5, batch: 16, size: 96, lr: undefined, finetuneLr: undefined, alpha: 0.35, model: 'mobilenetv2', weights: 'none', phase: 'both', augment: 'none', optimizer: undefined, unfreezeFrom: undefined, engine: undefined, precision: undefined, classWeights: false },
};

function inbox(view: Parameters<typeof receiveFromWebview>[0], raw: unknown): { message: unknown; log: string[]; replies: HostToWebview[] } {
  const log: string[] = [];
  const replies: HostToWebview[] = [];
  const message = receiveFromWebview(view, raw, (l) => log.push(l), (m) => replies.push(m));
  return { message, log, replies };
}

describe('extension/webviewInbox: what the host accepts from a webview', () => {
  it('passes the run form’s training/start request through, typed', () => {
    const r = inbox('sidebar', formRequest);
    assert.deepEqual(r.message, formRequest);
    assert.deepEqual(r.log, []);
    assert.deepEqual(r.replies, []);
  });

  it('rejects a malformed training/start with the reason in the log, and answers the request with it', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ epochs: '5' }, /params\.epochs should be a number, got string/],
      [{ epochs: 0 }, /params\.epochs should be at least 1/],
      [{ size: 4096 }, /params\.size should be at most 1024/],
      [{ model: 'vgg16' }, /params\.model should be one of/],
      [{ engine: 'cuda' }, /params\.engine should be one of auto, tfjs-node-gpu/],
      // The host decides where a run goes and whether it resumes; a view cannot.
      [{ run: '/etc' }, /params has unexpected field "run"/],
      [{ prepared: '/elsewhere' }, /params has unexpected field "prepared"/],
      [{ resume: true }, /params has unexpected field "resume"/],
    ];
    for (const [change, reason] of cases) {
      const raw = { ...formRequest, params: { ...formRequest.params, ...change } };
      const r = inbox('sidebar', raw);
      assert.equal(r.message, undefined, JSON.stringify(change));
      assert.equal(r.log.length, 1);
      assert.match(r.log[0]!, /^Ignored a message from the sidebar view: sidebar view message is malformed: /);
      assert.match(r.log[0]!, reason);
      assert.equal(r.replies.length, 1);
      const reply = r.replies[0]!;
      assert.ok(reply.type === 'response' && reply.id === 'sidebar-1' && !reply.ok);
      if (reply.type === 'response' && !reply.ok) assert.match(reply.error, reason);
    }
  });

  it('drops a message of another view or of no known type, logging why; a command gets no reply', () => {
    const foreign = inbox('evaluation', formRequest);
    assert.equal(foreign.message, undefined);
    assert.match(foreign.log[0]!, /the evaluation view sent "training\/start", which belongs to another view's protocol/);
    assert.equal(foreign.replies.length, 1, 'a request is answered even when refused');
    const unknown = inbox('sidebar', { type: 'shell/exec', command: 'rm' });
    assert.match(unknown.log[0]!, /unknown type "shell\/exec"/);
    assert.deepEqual(unknown.replies, []);
    const notAnObject = inbox('sidebar', 'lesionLab.train');
    assert.match(notAnObject.log[0]!, /no string "type" field/);
  });

  it('answers a request with its result, a refusal with its message, and logs only unexpected failures', async () => {
    const replies: HostToWebview[] = [];
    const log: string[] = [];
    await answer('a', (m) => replies.push(m), (l) => log.push(l), async () => ({ run: '/runs/x' }));
    await answer('b', (m) => replies.push(m), (l) => log.push(l), async () => {
      throw new RequestRefused('No prepared dataset at /w/prepared. Prepare one first.');
    });
    await answer('c', (m) => replies.push(m), (l) => log.push(l), async () => {
      throw new TypeError('cannot read x of undefined');
    });
    assert.deepEqual(replies, [
      { type: 'response', id: 'a', ok: true, result: { run: '/runs/x' } },
      { type: 'response', id: 'b', ok: false, error: 'No prepared dataset at /w/prepared. Prepare one first.' },
      { type: 'response', id: 'c', ok: false, error: 'cannot read x of undefined' },
    ]);
    assert.equal(log.length, 1);
    assert.match(log[0]!, /A webview request failed: TypeError: cannot read x of undefined/);
  });
});
