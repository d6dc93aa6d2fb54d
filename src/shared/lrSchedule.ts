/**
 * The learning rate of each training step. From random weights the first Adam steps are large relative to
 * the weights (the moment estimates start from a handful of noisy gradients) and can push the network into a
 * state it never leaves (on the demo data: every ReLU6 saturated, chance accuracy for the rest of the run).
 * A linear warm-up — the rate rising from lr/warmupSteps to lr over the first steps of a phase — is the
 * standard remedy (Goyal et al. 2017). A pure function of the step, so a resumed run steps exactly as the
 * uninterrupted one did; batches.jsonl records each step's rate.
 */
export function warmupLr(lr: number, phaseStep: number, warmupSteps: number): number {
  if (warmupSteps <= 0 || phaseStep >= warmupSteps) return lr;
  return (lr * Math.max(phaseStep, 1)) / warmupSteps;
}
