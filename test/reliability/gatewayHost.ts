/**
 * Runs the reference gateway on a fixed loopback port, either in this process (createGateway) or
 * in a child process (gatewayProcess.ts, its bus bridged over IPC), and stops it the ways a
 * deployment does: killed (in-process: every socket terminated and the server closed; child:
 * SIGKILL) or gracefully (system.shutdown, then close 1012). The bus is the test's: it outlives
 * every gateway, as Redis and the Celery workers would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BusEvent, EventBus } from '../../server/bus/types.js';
import { createGateway, type CommandContext, type GatewayOptions } from '../../server/gateway.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');

export type CommandFrame = Parameters<NonNullable<GatewayOptions['onCommand']>>[0];

export interface HostOptions {
  bus: EventBus;
  /** 0 for a free port (the first start); then the same port on every restart. */
  port: number;
  instanceId: string;
  heartbeatMs: number;
  clientTimeoutMs?: number;
  sessionTtlMs?: number;
  onCommand: (frame: CommandFrame, context: CommandContext) => void;
}

export interface HostedGateway {
  kind: 'in-process' | 'child';
  instanceId: string;
  port: number;
  /** Connected clients (in-process only; undefined for a child). */
  clientCount(): number | undefined;
  stop(how: 'kill' | 'graceful'): Promise<void>;
}

export async function startInProcess(options: HostOptions): Promise<HostedGateway> {
  const gateway = createGateway({
    bus: options.bus,
    host: '127.0.0.1',
    port: options.port,
    instanceId: options.instanceId,
    heartbeatMs: options.heartbeatMs,
    clientTimeoutMs: options.clientTimeoutMs,
    sessionTtlMs: options.sessionTtlMs,
    onCommand: options.onCommand,
  });
  await gateway.ready;
  return {
    kind: 'in-process',
    instanceId: gateway.instanceId,
    port: gateway.port(),
    clientCount: () => gateway.clientCount(),
    stop: (how) => (how === 'graceful' ? gateway.shutdown('server restarting') : gateway.terminate()),
  };
}

type ChildMessage =
  | { kind: 'call'; id: number; method: keyof EventBus; args: unknown[] }
  | { kind: 'command'; frame: CommandFrame; context: CommandContext }
  | { kind: 'ready'; port: number; instanceId: string };

export async function startChild(options: HostOptions): Promise<HostedGateway> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'gatewayProcess.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: {
      ...process.env,
      GATEWAY_PORT: String(options.port),
      GATEWAY_INSTANCE: options.instanceId,
      GATEWAY_HEARTBEAT_MS: String(options.heartbeatMs),
      ...(options.clientTimeoutMs !== undefined && { GATEWAY_CLIENT_TIMEOUT_MS: String(options.clientTimeoutMs) }),
      ...(options.sessionTtlMs !== undefined && { GATEWAY_SESSION_TTL_MS: String(options.sessionTtlMs) }),
    },
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const post = (message: unknown) => {
    if (!child.connected) return;
    try {
      child.send(message as never, (error) => void error);
    } catch {
      // the channel closed under us: the child is gone
    }
  };
  const unsubscribe = options.bus.subscribe((event: BusEvent) => post({ kind: 'event', event }));
  void exited.then(unsubscribe);

  const ready = new Promise<{ port: number; instanceId: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway child not ready within 20 s:\n${output}`)), 20_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`gateway child exited (${code ?? signal}) before it was ready:\n${output}`));
    });
    child.on('message', (message: ChildMessage) => {
      if (message.kind === 'ready') {
        clearTimeout(timer);
        resolve(message);
      } else if (message.kind === 'command') {
        options.onCommand(message.frame, message.context);
      } else if (message.kind === 'call') {
        const method = options.bus[message.method] as ((...args: unknown[]) => unknown) | undefined;
        Promise.resolve(typeof method === 'function' ? method.apply(options.bus, message.args) : undefined).then(
          (result) => post({ kind: 'reply', id: message.id, result }),
          (error: Error) => post({ kind: 'reply', id: message.id, error: error.message }),
        );
      }
    });
  });
  let info: { port: number; instanceId: string };
  try {
    info = await ready;
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
  return {
    kind: 'child',
    instanceId: info.instanceId,
    port: info.port,
    clientCount: () => undefined,
    async stop(how) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (how === 'kill') child.kill('SIGKILL');
      else post({ kind: 'shutdown' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
