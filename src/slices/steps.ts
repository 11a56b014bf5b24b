/** Step fields of a task.progress frame, applied the same way to a task and to its node. */

interface StepFields {
  step?: string;
  current_step?: number;
  total_steps?: number;
}

/**
 * A frame naming a new step without counts ("Decoding latents") clears the counts of the step
 * before it, so the UI never says "Step 30 of 30: Decoding latents" for a step that has none.
 * Counts alone (same step, next count) update the counts.
 */
export function applyStep(target: StepFields, frame: StepFields): void {
  if (frame.step !== undefined && frame.step !== target.step) {
    target.step = frame.step;
    target.current_step = frame.current_step;
    target.total_steps = frame.total_steps;
    return;
  }
  if (frame.current_step !== undefined) target.current_step = frame.current_step;
  if (frame.total_steps !== undefined) target.total_steps = frame.total_steps;
}
