/**
 * A WebSocket test double for driving the client without a server.
 *
 * Pass the class itself as the `WebSocket` option. Every instance is recorded in
 * `FakeWebSocket.instances` (newest last) with the frames the client sent. The test plays the
 * server:
 *
 * - `open()`            the connection is established (onopen);
 * - `receive(frame)`    a frame arrives (onmessage with the frame as JSON text);
 * - `close(code, why)`  the connection ends with that close code (onclose, in a microtask, as a
 *                       browser fires it after close()). Any code is accepted, so a test can
 *                       play 1006 (dropped), 1012 (service restart) or 1008 (policy).
 *
 * When the client itself closes the socket (disconnect, timeouts) it calls the same close();
 * the client detaches its handlers first, so the late onclose reaches no one, as in a browser.
 */
import type { SocketLike } from '../../src/index.js';

export interface FakeCloseEvent {
  code: number;
  reason: string;
  wasClean?: boolean;
}

export type SentFrame = { type: string; [key: string]: unknown };

export class FakeWebSocket implements SocketLike {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  /** Every socket constructed, oldest first. */
  static instances: FakeWebSocket[] = [];

  /** The newest socket; throws when none was made. */
  static last(): FakeWebSocket {
    const ws = FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
    if (!ws) throw new Error('FakeWebSocket: no socket was constructed');
    return ws;
  }

  static reset(): void {
    FakeWebSocket.instances = [];
  }

  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;

  readyState = 0;
  binaryType = 'blob';
  /** Raw text of every send(), in order. */
  readonly sent: string[] = [];
  /** The close code/reason given to close(), by the test or the client. */
  closedWith: { code: number; reason: string } | undefined;

  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: FakeCloseEvent) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    FakeWebSocket.instances.push(this);
  }

  /** The frames sent, parsed. */
  frames(): SentFrame[] {
    return this.sent.map((text) => JSON.parse(text) as SentFrame);
  }

  /** The sent frames of one type. */
  framesOfType(type: string): SentFrame[] {
    return this.frames().filter((frame) => frame.type === type);
  }

  send(data: string): void {
    if (this.readyState !== FakeWebSocket.OPEN) {
      throw new Error(`FakeWebSocket: send() while readyState is ${this.readyState}`);
    }
    this.sent.push(data);
  }

  /** Server side: the connection is up. */
  open(): void {
    if (this.readyState !== FakeWebSocket.CONNECTING) {
      throw new Error(`FakeWebSocket: open() while readyState is ${this.readyState}`);
    }
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.({ type: 'open' });
  }

  /** Server side: a frame arrives; an object is sent as JSON, a string as is. */
  receive(frame: object | string): void {
    if (this.readyState !== FakeWebSocket.OPEN) {
      throw new Error(`FakeWebSocket: receive() while readyState is ${this.readyState}`);
    }
    this.onmessage?.({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }

  /** Ends the connection with `code`; onclose fires in a microtask. A second close is ignored. */
  close(code = 1000, reason = ''): void {
    if (this.readyState === FakeWebSocket.CLOSING || this.readyState === FakeWebSocket.CLOSED) return;
    this.closedWith = { code, reason };
    this.readyState = FakeWebSocket.CLOSING;
    queueMicrotask(() => {
      this.readyState = FakeWebSocket.CLOSED;
      this.onclose?.({ code, reason, wasClean: code !== 1006 });
    });
  }
}
