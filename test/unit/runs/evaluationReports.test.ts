import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Evaluation } from '../../../src/shared/protocol/results';
import { ENSEMBLE_REPORT, describeEvaluatedSet } from '../../../src/shared/runFiles';
import { readEvaluationReports as panelReports } from '../../../src/extension/runFolders';
import { readEvaluationReports as modelCardReports } from '../../../src/backend/evaluation/modelCard';

const fixture = path.join(__dirname, '..', '..', 'fixtures', 'runs', 'finished');

describe('evaluation reports of a folder: the Evaluation panel’s and the model card’s', () => {
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'll-reports-'));
    const validation = JSON.parse(await fs.readFile(path.join(fixture, 'evaluation.json'), 'utf8')) as Evaluation;
    await fs.writeFile(path.join(dir, 'evaluation.json'), JSON.stringify(validation));
    const members = ['/runs/fold-1', '/runs/fold-2', '/runs/fold-3'];
    const ensemble: Evaluation = { ...validation, split: 'test, ensemble of 3 models', set: { id: 'ensemble', kind: 'test', report: ENSEMBLE_REPORT, prepared: '/data/prepared', usedForSelection: false, members } };
    await fs.writeFile(path.join(dir, ENSEMBLE_REPORT), JSON.stringify(ensemble));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('the Evaluation panel lists an ensemble report written into the folder, named as one, after the folder’s own sets', async () => {
    const reports = await panelReports(dir);
    assert.deepEqual(reports.map((r) => r.set?.id), ['val', 'ensemble']);
    assert.deepEqual(reports.map(describeEvaluatedSet), ['validation', 'ensemble of 3 — test split']);
  });

  it('a run’s model card leaves it out: an ensemble’s figures are not that run’s', async () => {
    assert.deepEqual((await modelCardReports(dir)).map((r) => r.set?.id), ['val']);
  });
});
