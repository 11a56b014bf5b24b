/**
 * A TCP proxy on 127.0.0.1 between the client and the gateway, to break the link in the ways a
 * network does:
 *
 * - dropAll():   every connection is destroyed on both sides (a reset: the client sees 1006, the
 *                gateway sees the socket close).
 * - halfOpen():  current connections stop forwarding in both directions but stay open: nothing
 *                is closed, nothing arrives (a dead NAT entry, a pulled cable). New connections
 *                are forwarded normally. What the gateway sends into one is read and discarded,
 *                as a kernel would buffer it for a peer that is gone.
 * - slow(ms):    every chunk, both directions, is delayed by `ms` (in order); fast() ends it.
 *
 * The upstream port is read for each new connection, so the gateway may move.
 */
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';

interface Link {
  client: Socket;
  upstream: Socket;
  frozen: boolean;
}

export class ChaosProxy {
  private readonly links = new Set<Link>();
  private delayMs = 0;
  private pendingTimers = new Set<ReturnType<typeof setTimeout>>();
  /** Connections accepted, for the figures. */
  accepted = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly upstreamPort: () => number,
  ) {}

  static async start(upstreamPort: () => number): Promise<ChaosProxy> {
    let proxy: ChaosProxy | undefined;
    const server = createServer((client) => proxy!.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const address = server.address();
    proxy = new ChaosProxy(server, typeof address === 'object' && address ? address.port : 0, upstreamPort);
    return proxy;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  private accept(client: Socket) {
    this.accepted++;
    client.setNoDelay(true);
    const upstream = netConnect({ host: '127.0.0.1', port: this.upstreamPort() });
    upstream.setNoDelay(true);
    const link: Link = { client, upstream, frozen: false };
    this.links.add(link);
    const forward = (from: Socket, to: Socket) => {
      // One ordered lane per direction: a chunk is released `delayMs` after it arrived, and never
      // before the chunks ahead of it (TCP does not reorder, even when the delay changes).
      const lane: Array<{ chunk: Buffer; at: number }> = [];
      let pumping = false;
      const pump = () => {
        pumping = false;
        while (lane.length > 0 && lane[0]!.at <= Date.now()) {
          const { chunk } = lane.shift()!;
          if (!link.frozen && !to.destroyed) to.write(chunk);
        }
        if (lane.length > 0) {
          pumping = true;
          this.later(Math.max(1, lane[0]!.at - Date.now()), pump);
        }
      };
      from.on('data', (chunk: Buffer) => {
        if (link.frozen) return; // read and discarded
        if (this.delayMs <= 0 && lane.length === 0) {
          if (!to.destroyed) to.write(chunk);
          return;
        }
        lane.push({ chunk, at: Date.now() + this.delayMs });
        if (!pumping) pump();
      });
      return lane;
    };
    const lanes = [forward(client, upstream), forward(upstream, client)];
    const end = () => {
      // A frozen link is severed both ways: neither side hears that the other one closed (the
      // gateway keeps a zombie until the proxy closes). It stays listed so close() ends it.
      if (link.frozen || !this.links.has(link)) return;
      this.links.delete(link);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      // Data still in a slow lane goes first (the close must not overtake the frames before it).
      const wait = () => (lanes.some((lane) => lane.length > 0) ? this.later(10, wait) : close());
      wait();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', () => {});
    upstream.on('error', () => {});
  }

  private later(ms: number, run: () => void) {
    const timer = setTimeout(() => {
      this.pendingTimers.delete(timer);
      run();
    }, ms);
    this.pendingTimers.add(timer);
  }

  /** Live (forwarding) connections. */
  liveCount(): number {
    let live = 0;
    for (const link of this.links) if (!link.frozen) live++;
    return live;
  }

  /** Resets every connection. Returns how many were dropped. */
  dropAll(): number {
    let count = 0;
    for (const link of Array.from(this.links)) {
      if (link.frozen) continue;
      count++;
      link.client.destroy();
      link.upstream.destroy();
    }
    return count;
  }

  /** Current connections go silent both ways but stay open. Returns how many. */
  halfOpen(): number {
    let count = 0;
    for (const link of this.links) {
      if (link.frozen) continue;
      link.frozen = true;
      count++;
    }
    return count;
  }

  slow(ms: number): void {
    this.delayMs = ms;
  }

  fast(): void {
    this.delayMs = 0;
  }

  async close(): Promise<void> {
    for (const timer of this.pendingTimers) clearTimeout(timer);
    this.pendingTimers.clear();
    for (const link of this.links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    this.links.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
