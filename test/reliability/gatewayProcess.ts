/**
 * The reference gateway (server/gateway.ts) in a child process, for the chaos suite's SIGKILL
 * faults. Its bus lives in the parent (the test) and is reached over Node's IPC channel: the
 * parent plays Redis and the Celery workers, which outlive a killed gateway process.
 *
 * Started by gatewayHost.ts as `node --import tsx test/reliability/gatewayProcess.ts` with
 * GATEWAY_PORT, GATEWAY_INSTANCE, GATEWAY_HEARTBEAT_MS, GATEWAY_CLIENT_TIMEOUT_MS,
 * GATEWAY_SESSION_TTL_MS. Messages:
 * parent -> child: { kind: 'reply', id, result | error }, { kind: 'event', event },
 * { kind: 'shutdown' }; child -> parent: { kind: 'call', id, method, args },
 * { kind: 'command', frame, context }, { kind: 'ready', port }.
 */
import type { BusEvent, EventBus } from '../../server/bus/types.js';
import { createGateway } from '../../server/gateway.js';

type Reply = { kind: 'reply'; id: number; result?: unknown; error?: string };
type ParentMessage = Reply | { kind: 'event'; event: BusEvent } | { kind: 'shutdown' };

const send = (message: unknown) => process.send?.(message);

let nextId = 1;
const calls = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
const listeners = new Set<(event: BusEvent) => void>();

function call<T>(method: string, ...args: unknown[]): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    calls.set(id, { resolve: resolve as (value: unknown) => void, reject });
    send({ kind: 'call', id, method, args });
  });
}

// Every bus call is forwarded to the parent's bus by name; only subscribe is local (the parent
// pushes every event). Cast: the EventBus interface may grow methods that are all forwarded.
const forward =
  (method: string) =>
  (...args: unknown[]) =>
    call(method, ...args);
const bus = new Proxy(
  {
    subscribe(listener: (event: BusEvent) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    // Workers listen in the parent, not here; the parent's bus never loses its data.
    onCommand: () => () => {},
    onReset: () => () => {},
    onReconnect: () => () => {},
    async close() {
      listeners.clear();
    },
  } as Record<string, unknown>,
  { get: (target, name: string) => target[name] ?? forward(name) },
) as unknown as EventBus;

const gateway = createGateway({
  bus,
  host: '127.0.0.1',
  port: Number(process.env.GATEWAY_PORT ?? 0),
  instanceId: process.env.GATEWAY_INSTANCE,
  heartbeatMs: Number(process.env.GATEWAY_HEARTBEAT_MS ?? 10_000),
  ...(process.env.GATEWAY_CLIENT_TIMEOUT_MS && { clientTimeoutMs: Number(process.env.GATEWAY_CLIENT_TIMEOUT_MS) }),
  sessionTtlMs: Number(process.env.GATEWAY_SESSION_TTL_MS ?? 24 * 60 * 60_000),
  onCommand: (frame, context) => send({ kind: 'command', frame, context }),
});

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  await gateway.shutdown('server restarting');
  process.exit(0);
}

process.on('message', (message: ParentMessage) => {
  if (message.kind === 'reply') {
    const pending = calls.get(message.id);
    calls.delete(message.id);
    if (message.error !== undefined) pending?.reject(new Error(message.error));
    else pending?.resolve(message.result);
  } else if (message.kind === 'event') {
    for (const listener of Array.from(listeners)) listener(message.event);
  } else if (message.kind === 'shutdown') {
    void shutdown();
  }
});
process.on('SIGTERM', () => void shutdown());
// The parent gone: nothing left to serve.
process.on('disconnect', () => process.exit(0));

gateway.ready.then(
  () => send({ kind: 'ready', port: gateway.port(), instanceId: gateway.instanceId }),
  (error: Error) => {
    console.error(error);
    process.exit(1);
  },
);
