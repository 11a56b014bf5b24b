/**
 * `on(type, cb)`: listeners for frames of one type (or '*' for all), called after the store has
 * applied the frame. Unknown types reach their listeners too (forward compatibility). A
 * listener that throws is reported and does not stop the others.
 */
import type { InboundFrame, InboundFrameOf, InboundType, UnknownFrame } from '../protocol/index.js';

export type FrameListener<F = InboundFrame | UnknownFrame> = (frame: F) => void;

export interface ListenerRegistry {
  on<T extends InboundType>(type: T, listener: FrameListener<InboundFrameOf<T>>): () => void;
  on(type: '*' | (string & {}), listener: FrameListener): () => void;
  emit(frame: InboundFrame | UnknownFrame, onError: (type: string, error: unknown) => void): void;
  count(): number;
  clear(): void;
}

export function createListenerRegistry(): ListenerRegistry {
  const byType = new Map<string, Set<FrameListener>>();

  function call(set: Set<FrameListener> | undefined, frame: InboundFrame | UnknownFrame, onError: (type: string, error: unknown) => void) {
    if (!set) return;
    // Copy: a listener may unsubscribe itself (or another) while we iterate.
    for (const listener of Array.from(set)) {
      try {
        listener(frame);
      } catch (error) {
        onError(frame.type, error);
      }
    }
  }

  return {
    on(type: string, listener: FrameListener) {
      if (typeof listener !== 'function') throw new TypeError('on(type, listener): listener must be a function');
      let set = byType.get(type);
      if (!set) byType.set(type, (set = new Set()));
      // Wrap so the same function registered twice is two registrations, removed one at a time.
      const entry: FrameListener = (frame) => listener(frame);
      set.add(entry);
      return () => {
        set.delete(entry);
        if (set.size === 0 && byType.get(type) === set) byType.delete(type);
      };
    },
    emit(frame, onError) {
      call(byType.get(frame.type), frame, onError);
      call(byType.get('*'), frame, onError);
    },
    count() {
      let total = 0;
      for (const set of byType.values()) total += set.size;
      return total;
    },
    clear() {
      byType.clear();
    },
  } as ListenerRegistry;
}
