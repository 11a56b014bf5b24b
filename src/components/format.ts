/**
 * Small pure helpers the canvas components share: text they derive from state, and the URL
 * guard applied to every image source. No Svelte, no DOM.
 */
import { isSafeUrl } from '../protocol/safety.js';
import type { AgentType, CeleryState } from '../protocol/vocabulary.js';

/** "Step 5 of 30: Denoising" when both counts are known, else the step alone (or undefined). */
export function stepLine(step: string | undefined, current?: number, total?: number): string | undefined {
  if (current !== undefined && total !== undefined) {
    return step !== undefined && step !== '' ? `Step ${current} of ${total}: ${step}` : `Step ${current} of ${total}`;
  }
  return step !== undefined && step !== '' ? step : undefined;
}

/** 0..100, rounded; anything else (NaN, undefined) is 0. */
export function percent(value: number | undefined): number {
  if (value === undefined || !Number.isFinite(value)) return 0;
  return Math.round(Math.min(100, Math.max(0, value)));
}

/** Cuts text to at most `max` characters (code points), ending with "…" when cut. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return chars.slice(0, Math.max(0, max - 1)).join('') + '…';
}

/** JSON text of a task result for display (strings as they are), truncated. */
export function summarizeJson(value: unknown, max: number): string {
  if (value === undefined) return '';
  let text: string;
  if (typeof value === 'string') text = value;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return truncate(text, max);
}

/**
 * The URL to bind to an <img src>, or undefined. State holds only safe URLs already (the wire
 * contract drops the rest); this is the second lock on the same door.
 */
export function safeImageSrc(...candidates: Array<string | undefined | null>): string | undefined {
  for (const candidate of candidates) {
    if (typeof candidate === 'string' && isSafeUrl(candidate)) return candidate;
  }
  return undefined;
}

/** "CastingDirector" -> "Casting Director". */
export function agentLabel(type: AgentType | string): string {
  return type.replace(/([a-z])([A-Z])/g, '$1 $2');
}

export const AGENT_ICONS: Readonly<Record<AgentType, string>> = {
  Producer: '🎬',
  Screenwriter: '✍️',
  CastingDirector: '👥',
  ArtDirector: '🎨',
  Cinematographer: '📹',
  SoundDesigner: '🎵',
  Editor: '✂️',
};

export type Tone = 'muted' | 'accent' | 'warning' | 'success' | 'error';

export const CELERY_TONES: Readonly<Record<CeleryState, Tone>> = {
  PENDING: 'muted',
  STARTED: 'accent',
  PROGRESS: 'accent',
  RETRY: 'warning',
  SUCCESS: 'success',
  FAILURE: 'error',
  REVOKED: 'muted',
};

/** A readable error from a Celery FAILURE result ({ exc_type, exc_message }), if it has one. */
export function celeryErrorText(result: unknown): string | undefined {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return undefined;
  const { exc_type, exc_message } = result as { exc_type?: unknown; exc_message?: unknown };
  const message = Array.isArray(exc_message)
    ? exc_message.filter((part): part is string => typeof part === 'string').join(' ')
    : typeof exc_message === 'string'
      ? exc_message
      : undefined;
  const type = typeof exc_type === 'string' ? exc_type : undefined;
  if (type && message) return `${type}: ${message}`;
  return message ?? type;
}

/** "three-act" -> "Three-act", "hero-journey" -> "Hero's journey", ... */
export function structureLabel(type: string): string {
  switch (type) {
    case 'three-act':
      return 'Three-act';
    case 'hero-journey':
      return 'Hero’s journey';
    case 'beat-sheet':
      return 'Beat sheet';
    case 'story-circle':
      return 'Story circle';
    default:
      return type;
  }
}

/** "1 generation", "3 takes". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
