/**
 * Formats backend events for a person at a terminal: results on stdout, progress and logs on stderr.
 * Progress redraws one line on a TTY and is thinned to one line every few seconds otherwise.
 */
import path from 'node:path';
import type { BackendEvent } from '../shared/protocol/backend';
import { assertNever } from '../shared/assertNever';
import { formatBytes, formatDuration, formatPercent } from '../shared/format';
import type { Evaluation, ModelProvenance } from '../shared/protocol/results';
import { describeNearDuplicates } from '../shared/nearDuplicates';
import { describeMonitor } from '../shared/runConfig';
import { ISIC2018_LEADERBOARD, chanceWarning, formatInterval, formatWithInterval } from '../shared/trust';

type Stream = NodeJS.WritableStream & { isTTY?: boolean };

const pct = (x: number): string => formatPercent(x);

export function createHumanReporter(out: Stream, err: Stream): (e: BackendEvent) => void {
  let progressLineOpen = false;
  let lastPlainProgress = 0;
  let lastSweepLine = '';
  const endProgressLine = (): void => {
    if (progressLineOpen) err.write('\n');
    progressLineOpen = false;
  };
  const line = (stream: Stream, text: string): void => {
    endProgressLine();
    stream.write(text + '\n');
  };
  return (e) => {
    switch (e.type) {
      case 'progress': {
        const eta = e.etaSeconds !== undefined && e.done < e.total ? `, ETA ${formatDuration(e.etaSeconds)}` : '';
        const text =
          e.unit === 'byte'
            ? `${e.task}: ${formatBytes(e.done)} of ${formatBytes(e.total)}${e.rate !== undefined ? `, ${formatBytes(e.rate)}/s` : ''}${eta}`
            : `${e.task}: ${e.done}/${e.total} ${e.unit}${e.rate !== undefined ? `, ${e.rate.toFixed(e.rate < 10 ? 1 : 0)} ${e.unit}/s` : ''}${eta}`;
        if (err.isTTY) {
          err.write(`\r\x1b[K${text}`);
          progressLineOpen = true;
          if (e.done >= e.total) endProgressLine();
        } else if (Date.now() - lastPlainProgress > 3000 || e.done >= e.total) {
          lastPlainProgress = Date.now();
          err.write(text + '\n');
        }
        return;
      }
      case 'log':
        // Debug lines (e.g. what a GPU driver printed while being probed) only when asked for.
        if (e.level !== 'debug' || process.env.LESION_LAB_DEBUG) line(err, e.level === 'warn' ? `warning: ${e.message}` : e.message);
        return;
      case 'error':
        line(err, `error: ${e.message}`);
        if (e.detail && process.env.LESION_LAB_DEBUG) line(err, e.detail);
        return;
      case 'engines/didDetect': {
        const rows = e.engines.map((x) => `  ${x.available ? '✓' : '✗'} ${x.name.padEnd(14)} ${x.device ? `[${x.device}] ` : ''}${x.reason}`);
        line(out, ['engines:', ...rows, `selected (auto): ${e.selected.engine} — ${e.selected.reason}`].join('\n'));
        return;
      }
      case 'engine/didInstall':
        line(out, `installed ${e.package}@${e.version} in ${e.dir}; it loads in a fresh process`);
        return;
      case 'demoData/didFinish':
        line(out, `wrote ${e.images} images of ${e.lesions} lesions to ${e.out}`);
        return;
      case 'download/didFinish':
        line(out, `downloaded ${e.files.length} file(s) to ${e.out}`);
        return;
      case 'prepare/didFinish': {
        const width = Math.max(6, ...e.summary.classes.map((c) => c.name.length));
        const groups = `${e.summary.grouping?.noun ?? 'group'}s`.padEnd(9);
        // A test set (ISIC 2018 Task 3 test) is all test: its count, not train 0 / val 0.
        const testOnly = e.summary.classes.every((c) => c.train.images === 0 && c.val.images === 0 && c.test !== undefined);
        const rows = e.summary.classes.map(
          (c) =>
            `  ${c.name.padEnd(width)} ${String(c.all.images).padStart(6)} images ${String(c.all.lesions).padStart(6)} ${groups} ` +
            (testOnly
              ? `test ${String(c.test!.images).padStart(6)}`
              : `train ${String(c.train.images).padStart(6)}   val ${String(c.val.images).padStart(5)}${c.test ? `   test ${String(c.test.images).padStart(5)}` : ''}`),
        );
        line(
          out,
          [
            `prepared ${e.out} (${e.summary.layout}, split by ${e.summary.split === 'image' || !e.summary.leakage || e.summary.grouping ? (e.summary.split === 'lesion' && e.summary.grouping && e.summary.grouping.column !== 'lesion_id' ? e.summary.grouping.column : e.summary.split) : 'image (no group column)'}, val fraction ${e.summary.valFraction}, seed ${e.summary.seed})`,
            ...rows,
            `excluded: ${e.summary.excludedCount} file(s)${e.summary.excludedCount ? ' — see manifest.json › excluded' : ''}`,
            ...(e.summary.nearDuplicates ? [`${describeNearDuplicates(e.summary.nearDuplicates)}${e.summary.nearDuplicates.pairs ? ' The pairs: manifest.json › nearDuplicates.' : ''}`] : []),
            ...(e.summary.leakage ? [`note: ${e.summary.leakage}`] : []),
          ].join('\n'),
        );
        return;
      }
      case 'dataset/didInspect':
        if (e.layout) line(out, `${e.data}: ${e.layout}`);
        else if (e.problem) line(out, `${e.data}: ${e.problem}`);
        for (const t of e.tables) {
          const guess = Object.entries(t.guess).map(([k, v]) => `${k}: ${v}`).join(', ');
          line(out, [`${t.file}: columns ${t.columns.join(', ')}${guess ? ` (guess — ${guess})` : ''}`, ...t.rows.map((r) => `  ${r.join(' | ')}`)].join('\n'));
        }
        return;
      case 'augment/didFinish':
        line(out, `augmented ${e.prepared}: wrote ${e.written} images`);
        return;
      case 'train/didStart':
        line(err, `training ${e.model} on ${e.engine.engine} (${e.engine.reason}) → ${e.run}`);
        return;
      case 'train/didBatch':
        return; // progress events carry batch progress for people
      case 'train/didEpoch': {
        const m = e.metrics;
        line(
          out,
          `epoch ${m.epoch} (${m.phase}) ${formatDuration(m.seconds)} - loss: ${m.loss.toFixed(4)} - acc: ${m.accuracy.toFixed(4)} - val_loss: ${m.valLoss.toFixed(4)} - val_acc: ${m.valAccuracy.toFixed(4)} - val_bal_acc: ${m.valBalancedAccuracy.toFixed(4)}${m.valBalancedAccuracyCi ? ` (95% CI ${m.valBalancedAccuracyCi.low.toFixed(4)}–${m.valBalancedAccuracyCi.high.toFixed(4)})` : ''}`,
        );
        return;
      }
      case 'train/didCheckpoint':
        if (e.kind === 'best') line(err, `  ${e.monitor ?? 'val_acc'} improved to ${(e.value ?? e.valAccuracy).toFixed(4)}: saved ${e.path}`);
        return;
      case 'train/didStopEarly':
        line(err, `early stop at epoch ${e.epoch}: ${e.monitor} did not improve for ${e.patience} epochs`);
        return;
      case 'train/didFinish':
        line(
          out,
          `finished ${e.run}: ${e.epochs} epochs; kept epoch ${e.bestEpoch ?? '?'}, chosen by ${describeMonitor(e.monitor ?? 'val_acc')}: validation balanced accuracy ${formatWithInterval(e.bestValBalancedAccuracy, e.bestValBalancedAccuracyCi)}, accuracy ${pct(e.bestValAccuracy)} — optimistic: used for model selection`,
        );
        return;
      case 'lrFind/didFinish': {
        const g = e.suggestion;
        const lr = (x: number | undefined): string => (x === undefined ? '—' : x.toExponential(1));
        const last = e.points.at(-1);
        line(
          out,
          [
            `learning-rate range test (${e.phase} phase, ${e.optimizer}, batch ${e.batch}): ${e.points.length} batches up to ${lr(last?.lr)}, ${e.stoppedBy === 'end' ? 'the whole range' : e.stoppedBy === 'divergence' ? 'stopped when the loss diverged' : 'stopped when the loss was not a number'}`,
            `  steepest descent   ${lr(g.steepest)}`,
            `  minimum / 10       ${lr(g.minimumTenth)}   (minimum at ${lr(g.minimum)})`,
            `suggested learning rate: ${lr(g.suggested)}`,
          ].join('\n'),
        );
        return;
      }
      case 'evaluate/didFinish':
        line(out, [...evaluationSummary(e.evaluation), `written to ${e.path}`].join('\n'));
        return;
      case 'predict/didFailImage':
        line(err, `error: ${e.error}`);
        return;
      case 'predict/didFinish':
        if (e.model) line(out, provenanceLines(e.model, e.predictions.length ? Object.keys(e.predictions[0]!.probabilities).length : 0).join('\n'));
        for (const p of e.predictions) {
          const top = Object.entries(p.probabilities).sort((a, b) => b[1] - a[1]).slice(0, 3);
          line(out, `${p.image}: ${top.map(([k, v]) => `${k} ${pct(v)}`).join(', ')}${p.gradcam ? ` (Grad-CAM: ${p.gradcam})` : ''}${p.gradcamNote ? ` (${p.gradcamNote})` : ''}`);
        }
        return;
      case 'export/didFinish':
        line(
          out,
          (e.members
            ? `exported an ensemble of ${e.members.length} runs' ${e.checkpoint} checkpoints (${e.members.map((m) => `${path.basename(m.run)} epoch ${m.epoch}`).join(', ')}) as one ${e.format} model to ${e.out}: ${e.files.join(', ')}\n`
            : `exported the ${e.checkpoint} checkpoint (epoch ${e.epoch}) as ${e.format} to ${e.out}: ${e.files.join(', ')}\n`) +
            `  verified on ${e.verification.images} ${e.verification.source === 'validation' ? 'validation images' : 'synthetic inputs'}: max |Δp| ${e.verification.maxAbsDiff.toExponential(1)} (≤ ${e.verification.tolerance})`,
        );
        return;
      case 'weights/didCheck': {
        const w = e.status;
        const size = w.bytes !== undefined ? ` (${formatBytes(w.bytes)})` : '';
        line(
          out,
          w.cached
            ? `cached${size}: ${w.file}${w.verified ? `\n  verified: ${w.verified}` : ''}`
            : w.download?.reachable
              ? `not cached; downloadable${size} from ${w.url} (answered in ${w.download.seconds.toFixed(1)} s): run again with --download, or let train download it`
              : `not cached, and not downloadable now: ${w.download?.reason ?? 'unknown'}. Download ${w.url} elsewhere and give its path to train --weights, or train with --weights none`,
        );
        return;
      }
      case 'sweep/didStatus': {
        const s = e.status;
        const counts = new Map<string, number>();
        for (const task of s.tasks) counts.set(task.state, (counts.get(task.state) ?? 0) + 1);
        const running = s.tasks.filter((task) => task.state === 'running').map((task) => `task ${task.index} epoch ${task.epochs}/${task.epochsTotal ?? '?'}`);
        const text = `${s.kind === 'cv' ? 'cross-validation' : 'sweep'} ${s.name}: ${[...counts].map(([state, c]) => `${c} ${state}`).join(', ')}${running.length ? ` (${running.join(', ')})` : ''}${s.schedulerProblem ? ` — scheduler: ${s.schedulerProblem}` : ''}`;
        if (text !== lastSweepLine) line(err, text);
        lastSweepLine = text;
        return;
      }
      case 'sweep/didFinish': {
        const lines = [`${e.summary.finished} of ${e.summary.total} runs finished; summary: ${e.path}`];
        for (const cv of e.summary.crossValidation) {
          const config = Object.entries(cv.config).map(([k, v]) => `${k} ${v}`).join(', ') || 'base options';
          lines.push(`  ${config}: balanced accuracy per fold ${cv.perFold.map((f) => pct(f.balancedAccuracy)).join(' / ')}, mean ${pct(cv.balancedAccuracy.mean)} ± ${pct(cv.balancedAccuracy.sd)}`);
          if (cv.outOfFold) lines.push(`    out of fold (${cv.outOfFold.images} images): ${pct(cv.outOfFold.balancedAccuracy)} (95% CI ${pct(cv.outOfFold.balancedAccuracyCi.low)}–${pct(cv.outOfFold.balancedAccuracyCi.high)})`);
        }
        for (const r of [...e.summary.runs].sort((a, b) => b.valBalancedAccuracy - a.valBalancedAccuracy).slice(0, e.summary.crossValidation.length ? 0 : 10)) lines.push(`  ${r.name}: val balanced accuracy ${pct(r.valBalancedAccuracy)} (epoch ${r.bestEpoch})`);
        line(out, lines.join('\n'));
        return;
      }
      case 'thumbnails/didRender':
        line(out, `${e.items.length} thumbnail(s)`);
        return;
      case 'augmentPreview/didRender':
        for (const v of e.variants) {
          const p = v.params;
          line(out, `θ ${p.angleDeg.toFixed(1)}° tx ${p.tx.toFixed(3)} ty ${p.ty.toFixed(3)} zx ${p.zx.toFixed(3)} zy ${p.zy.toFixed(3)}${p.flipH ? ' flipH' : ''}${p.flipV ? ' flipV' : ''}`);
        }
        return;
      case 'job/didEnd':
        endProgressLine();
        if (e.status === 'cancelled') err.write('cancelled\n');
        return;
      default:
        assertNever(e, 'event');
    }
  };
}

/** The evaluation as a person reads it at a terminal: each headline figure with its interval, and the warnings first. */
export function evaluationSummary(ev: Evaluation): string[] {
  const set = ev.set;
  const warning = chanceWarning(ev.chance?.verdict, ev.classes.length);
  const cal = ev.calibration;
  const width = Math.max(6, ...ev.perClass.map((c) => c.name.length));
  return [
    `${ev.split}: ${ev.count} images${set?.usedForSelection ? ' — optimistic: used for model selection' : ''}`,
    ...(warning ? [`warning: ${warning}`] : []),
    ...(set?.overlapWithTraining ? [`warning: ${set.overlapWithTraining} of these images were in the run's training split: the figures are optimistic.`] : []),
    `  balanced accuracy ${formatWithInterval(ev.balancedAccuracy, ev.balancedAccuracyCi)}`,
    `  accuracy          ${formatWithInterval(ev.accuracy, ev.accuracyCi)}`,
    ...(ev.ranking?.macroAuc !== undefined ? [`  macro AUC         ${ev.ranking.macroAuc.toFixed(3)} (one-vs-rest)`] : []),
    ...(cal ? [`  calibration       ECE ${formatPercent(cal.ece)}${cal.temperature ? `; temperature-scaled (T ${cal.temperature.value.toFixed(2)}, fitted on ${cal.temperature.fittedOn}) ECE ${formatPercent(cal.temperature.ece)}` : ''}`] : []),
    ...ev.perClass.map((c, k) => {
      const auc = ev.ranking?.perClass[k]?.auc;
      return `  ${c.name.padEnd(width)} precision ${pct(c.precision).padStart(6)}  recall ${pct(c.recall).padStart(6)}${c.recallCi ? ` (${formatInterval(c.recallCi)})`.padEnd(11) : ''}  F1 ${pct(c.f1).padStart(6)}${auc !== undefined ? `  AUC ${auc.toFixed(3)}` : ''}  n=${c.support}`;
    }),
    ...(set?.isic2018Test ? [`ISIC 2018 Task 3 leaderboard, for context: ${ISIC2018_LEADERBOARD.top}. ${ISIC2018_LEADERBOARD.caveat}`] : []),
  ];
}

/** Where a model comes from, printed before its predictions. */
export function provenanceLines(m: ModelProvenance, numClasses: number): string[] {
  const v = m.validation;
  const warning = chanceWarning(v?.chance, numClasses);
  return [
    `model: ${m.run}, checkpoint of epoch ${m.checkpointEpoch} of ${m.epochs}, chosen by ${describeMonitor(m.monitor)}`,
    `trained on: ${m.trainedOn.synthetic ? 'synthetic demo data (painted shapes, not photographs): predictions on real photographs are meaningless' : `${m.trainedOn.images} images`} (${m.trainedOn.prepared})`,
    v ? `validation balanced accuracy: ${formatWithInterval(v.balancedAccuracy, v.ci)} on ${v.images} images (${v.from === 'evaluation' ? 'evaluation.json' : "training's validation"}; optimistic: used for model selection)` : 'validation balanced accuracy: not recorded for this checkpoint',
    ...(warning ? [`warning: ${warning}`] : []),
    `probabilities: ${m.calibration.applied ? `temperature-scaled (T ${m.calibration.temperature?.toFixed(2)}, fitted on validation)` : 'the softmax as the model gives it (not calibrated)'}${m.calibration.ece !== undefined ? `; validation ECE ${formatPercent(m.calibration.ece)}${m.calibration.eceScaled !== undefined ? ` raw, ${formatPercent(m.calibration.eceScaled)} scaled` : ''}` : ''}`,
  ];
}
