/** Types the canvas components take as props. */

/** The text-to-image parameters GenerationNode edits (its `params` prop seeds them). */
export interface TextToImageParams {
  prompt: string;
  negative_prompt: string;
  width: number;
  height: number;
  steps: number;
  cfg_scale: number;
  /** Undefined: the backend picks a random seed. */
  seed?: number;
}
