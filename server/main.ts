/**
 * `npm start`: the reference gateway on the embedded bus (or Redis with REDIS_URL), the pipeline
 * simulator behind it, and the demo canvas page, all on one port: the page at /, the socket at
 * /ws (the client's same-origin default).
 *
 * Roles (ROLE), so a gateway can restart, or die, while the "Celery workers" keep running:
 *
 * - `all` (default): gateway + simulator + page in this process, as above.
 * - `gateway`: gateway + page, no simulator: accepted commands go to the bus's command channel,
 *   where a worker picks them up. Several gateways can share one Redis (REDIS_URL).
 * - `worker`: the pipeline simulator only, listening on the bus's command channel and
 *   publishing events onto the bus. Needs REDIS_URL (an in-memory bus reaches no gateway).
 *
 * Environment: ROLE, PORT (default 8000), HOST (default 127.0.0.1), REDIS_URL, REDIS_PREFIX
 * (default 'cr:'), SEED, SPEED, FAILURE_RATE (chance a run fails at random, default 0), AMBIENT_MS (background activity every this many
 * ms at speed 1, 0 = none; default 9000), DEMO_DIR (default demo/dist), BOOT (pins the boot nonce
 * in task and take ids, for runs compared across servers; default random per process), DATA_FILE
 * (the memory bus's file, so that the demo keeps its takes across a restart, even `kill -9`;
 * default canvas-realtime-demo-<PORT>.jsonl under the OS temp directory, none when PORT is 0 (a
 * new port every time finds nothing again); `DATA_FILE=` (empty) for none; not used with
 * REDIS_URL).
 *
 * `startServer(options)` does the same from code (the browser tests run it in-process) and can
 * stop and start the gateway alone on the same port while the bus and the simulator keep
 * running (`stopGateway('graceful' | 'abrupt')`, `startGateway()`).
 */
import { existsSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as v from 'valibot';
import { OUTBOUND_SCHEMAS } from '../src/protocol/index.js';
import { createMemoryBus } from './bus/memoryBus.js';
import type { BusCommand, EventBus } from './bus/types.js';
import { createGateway, type Gateway } from './gateway.js';
import { createSimulator, type Simulator } from './simulator/simulator.js';
import { serveStatic } from './static.js';

export type Role = 'all' | 'gateway' | 'worker';
export const ROLES: readonly Role[] = ['all', 'gateway', 'worker'];

export interface ServerOptions {
  role?: Role;
  /** Default 8000; 0 = a free port. Not used by a worker. */
  port?: number;
  host?: string;
  /** Redis for the bus; without it the bus is in memory (roles all and gateway only). */
  redisUrl?: string;
  redisPrefix?: string;
  /** A bus to use instead of creating one (not closed by stop()). */
  bus?: EventBus;
  /**
   * The memory bus's file (MemoryBusOptions.file): events and checkpoints survive a restart.
   * Default none; main() gives the demo one (DATA_FILE). Not used with redisUrl or bus.
   */
  dataFile?: string;
  seed?: number;
  /** The simulator's boot nonce (SimulatorOptions.boot); default random per process. */
  boot?: string;
  speed?: number;
  failureRate?: number;
  ambientEveryMs?: number;
  demoDir?: string;
  /** Gateway heartbeat interval (ms). */
  heartbeatMs?: number;
  log?: (line: string) => void;
}

export interface RunningServer {
  role: Role;
  /** The HTTP port (0 for a worker). */
  port: number;
  /** Page URL (undefined for a worker). */
  url?: string;
  /** Socket URL (undefined for a worker). */
  wsUrl?: string;
  bus: EventBus;
  busLabel: string;
  /** The running gateway (undefined for a worker, or while stopped). */
  gateway(): Gateway | undefined;
  simulator?: Simulator;
  /**
   * Stops the gateway alone: 'graceful' sends system.shutdown and closes every client with 1012;
   * 'abrupt' terminates the sockets (clients see 1006), as a killed process would. The HTTP
   * port stays bound (a socket upgrade meanwhile is refused), the bus and simulator keep running.
   */
  stopGateway(mode?: 'graceful' | 'abrupt'): Promise<void>;
  /** Starts a new gateway (a new instance id) on the same port after stopGateway(). */
  startGateway(): Gateway;
  /** Stops everything: simulator, gateway (graceful), HTTP server, the bus it created. */
  stop(): Promise<void>;
}

function notBuilt(_req: unknown, res: ServerResponse) {
  res.writeHead(503, { 'content-type': 'text/plain' }).end('The demo page is not built: run `npm run build:demo`.');
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const role = options.role ?? 'all';
  if (!ROLES.includes(role)) throw new Error(`ROLE must be one of ${ROLES.join(', ')} (got "${role}")`);
  const log = options.log ?? (() => {});
  if (role === 'worker' && !options.redisUrl && !options.bus) {
    throw new Error('ROLE=worker needs REDIS_URL: a worker reaches the gateways only through Redis');
  }

  let bus: EventBus;
  let busLabel: string;
  const ownBus = !options.bus;
  if (options.bus) {
    bus = options.bus;
    busLabel = 'the given bus';
  } else if (options.redisUrl) {
    const { createRedisBus } = await import('./bus/redisBus.js');
    bus = await createRedisBus({ url: options.redisUrl, prefix: options.redisPrefix });
    busLabel = `Redis at ${options.redisUrl}`;
  } else {
    bus = createMemoryBus({ file: options.dataFile, log });
    busLabel = options.dataFile ? `embedded in-memory bus, kept in ${options.dataFile}` : 'embedded in-memory bus';
  }

  let simulator: Simulator | undefined;
  let offCommands: (() => void) | undefined;
  if (role === 'all' || role === 'worker') {
    const sim = createSimulator({
      bus,
      seed: options.seed ?? 2026,
      boot: options.boot,
      speed: options.speed ?? 1,
      failureRate: options.failureRate,
      ambientEveryMs: options.ambientEveryMs,
      log,
    });
    simulator = sim;
    offCommands = bus.onCommand((frame, context) => {
      // Another process's gateway validated it; check again, a worker trusts no wire.
      const schema = OUTBOUND_SCHEMAS[frame.type as 'start_generation' | 'cancel_generation'];
      const parsed = schema ? v.safeParse(schema, frame) : undefined;
      if (!parsed?.success || typeof context?.projectId !== 'string') {
        log(`worker: ignored an invalid command ${JSON.stringify(frame).slice(0, 120)}`);
        return;
      }
      sim.handleCommand(parsed.output as Parameters<Simulator['handleCommand']>[0], context as BusCommand['context']);
    });
    await bus.commandsReady();
    // The runs a previous process left unfinished end before any client is served (no page
    // loaded after a restart shows them generating).
    await sim.recovered;
  }

  let http: Server | undefined;
  let gateway: Gateway | undefined;
  let port = 0;
  const host = options.host ?? '127.0.0.1';
  const newGateway = () => createGateway({ bus, noServer: true, path: '/ws', heartbeatMs: options.heartbeatMs, log });

  if (role !== 'worker') {
    const demoDir = resolve(options.demoDir ?? 'demo/dist');
    const staticHandler = existsSync(demoDir) ? serveStatic(demoDir) : notBuilt;
    http = createServer((request, response) => {
      if (request.url === '/healthz') {
        response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      }
      staticHandler(request, response);
    });
    // Upgrades go to the current gateway; while it is stopped they are refused (the client retries).
    http.on('upgrade', (request, socket, head) => {
      socket.on('error', () => {});
      if (gateway) gateway.handleUpgrade(request, socket, head);
      else socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    gateway = newGateway();
    await new Promise<void>((resolveListen, reject) => {
      http!.once('error', reject);
      http!.listen(options.port ?? 8000, host, resolveListen);
    });
    const address = http.address();
    port = typeof address === 'object' && address ? address.port : (options.port ?? 8000);
  }

  let stopped = false;
  const running: RunningServer = {
    role,
    port,
    url: http ? `http://${host}:${port}/` : undefined,
    wsUrl: http ? `ws://${host}:${port}/ws` : undefined,
    bus,
    busLabel,
    gateway: () => gateway,
    simulator,
    async stopGateway(mode = 'graceful') {
      const current = gateway;
      if (!current) return;
      gateway = undefined;
      if (mode === 'graceful') await current.shutdown('server restarting');
      else await current.terminate();
    },
    startGateway() {
      if (!http) throw new Error('a worker has no gateway');
      if (stopped) throw new Error('the server is stopped');
      if (gateway) throw new Error('the gateway is running: stopGateway() first');
      gateway = newGateway();
      log(`gateway ${gateway.instanceId} started on port ${port}`);
      return gateway;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      simulator?.stop();
      offCommands?.();
      await running.stopGateway('graceful');
      if (http) {
        http.closeAllConnections?.();
        await new Promise<void>((r) => http!.close(() => r()));
      }
      if (ownBus) await bus.close();
    },
  };
  return running;
}

/** DATA_FILE: unset, the demo's default file for the port; empty, none. */
export function dataFileOf(value: string | undefined, port: number): string | undefined {
  if (value !== undefined) return value === '' ? undefined : resolve(value);
  return port === 0 ? undefined : join(tmpdir(), `canvas-realtime-demo-${port}.jsonl`);
}

export async function main() {
  const env = process.env;
  const num = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : Number(env[name]));
  const role = (env.ROLE ?? 'all') as Role;
  const port = num('PORT') ?? 8000;
  const server = await startServer({
    role,
    port,
    dataFile: env.REDIS_URL ? undefined : dataFileOf(env.DATA_FILE, port),
    host: env.HOST ?? '127.0.0.1',
    redisUrl: env.REDIS_URL || undefined,
    redisPrefix: env.REDIS_PREFIX || undefined,
    seed: num('SEED'),
    boot: env.BOOT || undefined,
    speed: num('SPEED'),
    failureRate: num('FAILURE_RATE'),
    ambientEveryMs: num('AMBIENT_MS'),
    demoDir: env.DEMO_DIR,
    log: (line) => console.log(line),
  });
  if (server.role === 'worker') {
    console.log(`canvas-realtime worker (${server.busLabel}): pipeline simulator listening for commands`);
    console.log('  worker ready');
  } else {
    const what = server.role === 'all' ? 'demo' : 'gateway';
    console.log(`canvas-realtime ${what} (${server.busLabel}, gateway ${server.gateway()?.instanceId})`);
    console.log(`  page:   ${server.url}`);
    console.log(`  socket: ${server.wsUrl}`);
    if (server.role === 'gateway' && !env.REDIS_URL) {
      console.log('  warning: ROLE=gateway on the in-memory bus: no worker can reach it (set REDIS_URL and start ROLE=worker)');
    }
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (server.role !== 'worker') console.log(`${signal}: closing clients with 1012 (service restart)`);
    else console.log(`${signal}: worker stopping`);
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  return { ...server, stop };
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('server/main.ts')) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
