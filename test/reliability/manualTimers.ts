/**
 * Timers and a clock the test drives (the middleware's `timers` option): nothing fires until
 * `advance()` or `runDue()`, and `count()` says how many are pending, for leak checks. A binary
 * heap, so thousands of clients on one clock stay cheap.
 */
import type { Timers } from '../../src/index.js';

interface Pending {
  id: number;
  at: number;
  order: number;
  callback: () => void;
}

export class ManualTimers implements Timers {
  private current: number;
  private nextId = 1;
  private order = 0;
  private readonly live = new Map<number, Pending>();
  private heap: Pending[] = [];

  constructor(start = Date.UTC(2026, 2, 4, 12)) {
    this.current = start;
  }

  now = (): number => this.current;

  setTimeout = (callback: () => void, ms: number): unknown => {
    const timer: Pending = { id: this.nextId++, at: this.current + Math.max(0, ms), order: this.order++, callback };
    this.live.set(timer.id, timer);
    this.push(timer);
    return timer.id;
  };

  clearTimeout = (handle: unknown): void => {
    this.live.delete(handle as number);
  };

  /** Pending timers. */
  count(): number {
    return this.live.size;
  }

  private before(a: Pending, b: Pending) {
    return a.at < b.at || (a.at === b.at && a.order < b.order);
  }

  private push(timer: Pending) {
    const heap = this.heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): Pending | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && this.before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && this.before(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  }

  /** The next live timer, dropping cleared ones from the top. */
  private peek(): Pending | undefined {
    while (this.heap.length > 0 && !this.live.has(this.heap[0]!.id)) this.pop();
    return this.heap[0];
  }

  /** When the next timer is due, if any. */
  nextAt(): number | undefined {
    return this.peek()?.at;
  }

  /** Runs every timer due now (and those they schedule for now), oldest first; bounded. */
  runDue(limit = 1_000_000): number {
    let ran = 0;
    for (let next = this.peek(); next && next.at <= this.current; next = this.peek()) {
      this.pop();
      this.live.delete(next.id);
      next.callback();
      if (++ran >= limit) throw new Error(`ManualTimers: more than ${limit} timers ran at ${this.current}`);
    }
    return ran;
  }

  /** Moves the clock forward by `ms`, running every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (let next = this.nextAt(); next !== undefined && next <= end; next = this.nextAt()) {
      this.current = Math.max(this.current, next);
      this.runDue();
    }
    this.current = end;
  }
}
