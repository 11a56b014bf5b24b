/**
 * Starts a real redis-server for a test file: on 127.0.0.1, on a free port, persistence off
 * (no RDB snapshots, no AOF), its working directory a fresh temporary directory. Stop it in
 * afterAll. Never skips: a missing redis-server is an error that names the package to install.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  url: string;
  port: number;
  /** SIGTERM, then SIGKILL if it has not exited after 3 s; removes its directory. */
  stop(): Promise<void>;
}

const MISSING =
  'redis-server is not installed (or not on PATH): the Redis bus tests need a real Redis. ' +
  'Install the Debian package redis-server (`apt-get install -y redis-server`), or set REDIS_SERVER_BIN.';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

async function startOnce(bin: string, port: number, dir: string): Promise<{ child: ChildProcess } | { retry: string }> {
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'notice'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not become ready within 10 s:\n${output}`));
    }, 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve({ child });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(error.code === 'ENOENT' ? new Error(MISSING) : error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // Someone took the port between freePort() and the bind: try another one.
      if (/address already in use/i.test(output)) resolve({ retry: output });
      else reject(new Error(`redis-server exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
}

export async function startRedisServer(options: { bin?: string } = {}): Promise<RedisServer> {
  const bin = options.bin ?? process.env.REDIS_SERVER_BIN ?? 'redis-server';
  const dir = mkdtempSync(join(tmpdir(), 'redis-test-'));
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = await freePort();
      const started = await startOnce(bin, port, dir);
      if ('retry' in started) continue;
      const { child } = started;
      return {
        port,
        url: `redis://127.0.0.1:${port}`,
        async stop() {
          const done = exited(child);
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
          await done;
          clearTimeout(timer);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    throw new Error('redis-server: no free port after 5 attempts');
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
