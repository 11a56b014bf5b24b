/**
 * `npm start`: the reference gateway on the embedded bus (or Redis with REDIS_URL), the pipeline
 * simulator behind it, and the demo canvas page, all on one port: the page at /, the socket at
 * /ws (the client's same-origin default).
 *
 * Environment: PORT (default 8000), HOST (default 127.0.0.1), REDIS_URL, SEED, SPEED,
 * FAILURE_RATE, DEMO_DIR (default demo/dist).
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { createMemoryBus } from './bus/memoryBus.js';
import type { EventBus } from './bus/types.js';
import { createGateway } from './gateway.js';
import { createSimulator } from './simulator/simulator.js';
import { serveStatic } from './static.js';

async function createBus(): Promise<{ bus: EventBus; label: string }> {
  const url = process.env.REDIS_URL;
  if (!url) return { bus: createMemoryBus(), label: 'embedded in-memory bus' };
  const { createRedisBus } = await import('./bus/redisBus.js');
  return { bus: await createRedisBus({ url }), label: `Redis at ${url}` };
}

export async function main() {
  const port = Number(process.env.PORT ?? 8000);
  const host = process.env.HOST ?? '127.0.0.1';
  const demoDir = resolve(process.env.DEMO_DIR ?? 'demo/dist');
  const { bus, label } = await createBus();
  const simulator = createSimulator({
    bus,
    seed: Number(process.env.SEED ?? 2026),
    speed: Number(process.env.SPEED ?? 1),
    failureRate: process.env.FAILURE_RATE === undefined ? undefined : Number(process.env.FAILURE_RATE),
    log: (line) => console.log(line),
  });
  const staticHandler = existsSync(demoDir)
    ? serveStatic(demoDir)
    : (_req: unknown, res: import('node:http').ServerResponse) =>
        res.writeHead(503, { 'content-type': 'text/plain' }).end('The demo page is not built: run `npm run build:demo`.');
  const http = createServer((request, response) => {
    if (request.url === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    staticHandler(request, response);
  });
  const gateway = createGateway({ bus, server: http, path: '/ws', onCommand: simulator.handleCommand, log: (line) => console.log(line) });
  await new Promise<void>((resolveListen, reject) => {
    http.once('error', reject);
    http.listen(port, host, resolveListen);
  });
  const address = http.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  console.log(`canvas-realtime demo (${label}, gateway ${gateway.instanceId})`);
  console.log(`  page:   http://${host}:${actualPort}/`);
  console.log(`  socket: ws://${host}:${actualPort}/ws`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: closing clients with 1012 (service restart)`);
    simulator.stop();
    await gateway.shutdown('server restarting');
    await new Promise<void>((r) => http.close(() => r()));
    await bus.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  return { port: actualPort, gateway, simulator, bus, stop };
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('server/main.ts')) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
