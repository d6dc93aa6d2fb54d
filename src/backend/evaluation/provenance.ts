/** A trained model's provenance, read from its run folder, for every prediction it makes. */
import type { ModelProvenance } from '../../shared/protocol/results';
import { checkpointValidation } from '../../shared/modelEvidence';
import { runMonitor } from '../../shared/runConfig';
import { UserError } from '../errors';
import { readManifest } from '../dataset/manifest';
import type { TrainedModel } from './trainedModel';

export interface Provenance {
  model: ModelProvenance;
  /** The temperature to divide the logits by; undefined: the softmax as it is. */
  temperature?: number;
}

/**
 * Run, checkpoint, training data, validation balanced accuracy with its interval, and calibration. With
 * `calibrated`, the temperature fitted on validation for this very checkpoint, or a UserError saying how to get one.
 */
export async function modelProvenance(trained: TrainedModel, calibrated: boolean): Promise<Provenance> {
  const { run, config, epoch } = trained;
  const metrics = await run.readMetrics();
  const report = await run.readValidationReport();
  const ofThisCheckpoint = report?.checkpointEpoch === epoch ? report : undefined;
  const t = ofThisCheckpoint?.calibration?.temperature;
  if (calibrated && !t) {
    throw new UserError(
      `Calibrated probabilities need a temperature fitted on the validation split for this checkpoint (epoch ${epoch}): run \`lesion-lab evaluate --run ${run.dir}\` first, then predict again.`,
    );
  }
  const synthetic = config.dataset.synthetic ?? (await readManifest(config.options.prepared).catch(() => undefined))?.summary.synthetic ?? false;
  const validation = checkpointValidation(config, metrics, ofThisCheckpoint);
  const model: ModelProvenance = {
    run: run.dir,
    checkpointEpoch: epoch,
    epochs: metrics.length,
    monitor: runMonitor(config),
    trainedOn: { prepared: config.dataset.prepared, ...(config.dataset.source ? { source: config.dataset.source } : {}), images: config.dataset.train, synthetic },
    ...(validation && validation.epoch === epoch ? { validation } : {}),
    calibration: {
      applied: calibrated,
      ...(t ? { temperature: t.value, eceScaled: t.ece } : {}),
      ...(ofThisCheckpoint?.calibration ? { ece: ofThisCheckpoint.calibration.ece } : {}),
    },
  };
  return { model, ...(calibrated && t ? { temperature: t.value } : {}) };
}
