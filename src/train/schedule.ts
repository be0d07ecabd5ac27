/** Learning-rate schedules exactly as Hugging Face's get_*_schedule_with_warmup (LambdaLR stepped per update). */
import type { LrScheduleName } from "./args";

/**
 * The multiplier of the peak learning rate used for the optimizer step that follows `completedSteps` updates
 * (0 for the first step): linear warmup over `warmupSteps`, then constant, linear decay to 0, or half-cosine.
 */
export function lrMultiplier(schedule: LrScheduleName, completedSteps: number, warmupSteps: number, totalSteps: number): number {
  if (completedSteps < warmupSteps) return completedSteps / Math.max(1, warmupSteps);
  if (schedule === "constant") return 1;
  if (schedule === "linear") {
    return Math.max(0, (totalSteps - completedSteps) / Math.max(1, totalSteps - warmupSteps));
  }
  const progress = (completedSteps - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** Warmup length in steps from warmupSteps, or from warmupRatio as ceil(ratio * totalSteps) like Hugging Face. */
export function warmupStepsFor(warmupSteps: number | undefined, warmupRatio: number | undefined, totalSteps: number): number {
  if (warmupSteps !== undefined) return warmupSteps;
  return warmupRatio === undefined ? 0 : Math.ceil(warmupRatio * totalSteps);
}
