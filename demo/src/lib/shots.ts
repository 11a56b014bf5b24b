/** The demo project: four text-to-image shots of a short film. */
import type { GenerationContext, GenerationParams } from 'canvas-realtime';

export const PROJECT = {
  id: 'demo',
  title: 'The Lighthouse',
  logline: 'A keeper’s daughter keeps the lamp alive through the storm of the century.',
};

export interface Shot {
  nodeId: string;
  title: string;
  params: GenerationParams & { prompt: string };
  context: GenerationContext & { scene_id: string; shot_id: string; emotional_beat: string };
}

const base = { width: 1024, height: 576, steps: 30, cfg_scale: 7, negative_prompt: 'text, watermark, modern objects' } as const;

export const SHOTS: Shot[] = [
  {
    nodeId: 'shot-s001-p001',
    title: 'The lamp room',
    params: { ...base, seed: 1101, prompt: 'Mara climbs the spiral stairs into the lamp room, dust glittering in the beam, the sea calm below' },
    context: { scene_id: 'S001', shot_id: 'P001', emotional_beat: 'Wonder', character_refs: ['char-mara'], style_refs: ['style-nordic-noir'], location_ref: 'loc-lighthouse' },
  },
  {
    nodeId: 'shot-s001-p002',
    title: 'Storm front',
    params: { ...base, seed: 2202, prompt: 'A wall of black cloud swallows the horizon; the glass rattles as lightning splits the sky behind Mara' },
    context: { scene_id: 'S001', shot_id: 'P002', emotional_beat: 'Tension', character_refs: ['char-mara'], style_refs: ['style-nordic-noir', 'style-35mm-grain'], location_ref: 'loc-lighthouse' },
  },
  {
    nodeId: 'shot-s002-p003',
    title: 'The old keeper',
    params: { ...base, seed: 3303, prompt: 'Her father, soaked, hauls the generator cord in the engine room, lit only by a swinging lantern' },
    context: { scene_id: 'S002', shot_id: 'P003', emotional_beat: 'Tension', character_refs: ['char-mara', 'char-elias'], style_refs: ['style-nordic-noir'], location_ref: 'loc-engine-room' },
  },
  {
    nodeId: 'shot-s002-p004',
    title: 'First light',
    params: { ...base, seed: 4404, prompt: 'Dawn breaks over flat water as the beam sweeps once more; Mara rests her head against the warm glass' },
    context: { scene_id: 'S002', shot_id: 'P004', emotional_beat: 'Resolve', character_refs: ['char-mara'], style_refs: ['style-golden-hour'], location_ref: 'loc-lighthouse' },
  },
];

/** "char-mara" -> "Mara", "style-35mm-grain" -> "35mm grain". */
export function refLabel(ref: string): string {
  const text = ref.replace(/^(char|style|loc)-/, '').replace(/-/g, ' ');
  return ref.startsWith('char-') || ref.startsWith('loc-') ? text.replace(/\b\w/g, (c) => c.toUpperCase()) : text;
}
