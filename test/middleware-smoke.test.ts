import { describe, expect, it } from 'vitest';
import { WebSocketServer, WebSocket } from 'ws';
import { createRealtimeStore, startGeneration, subscribeProject, connect, createMemoryStorage } from '../src/index.js';

describe('middleware smoke', () => {
  it('connects, inits session, subscribes, sends a command, applies frames', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    const port = (wss.address() as { port: number }).port;
    const received: any[] = [];
    wss.on('connection', (ws) => {
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data));
        received.push(msg);
        if (msg.type === 'session.init') ws.send(JSON.stringify({ type: 'session.init', session_id: msg.session_id, instance_id: 'i1', capabilities: ['ack', 'seq'] }));
        if (msg.type === 'start_generation') {
          ws.send(JSON.stringify({ type: 'ack', command_id: msg.command_id, status: 'accepted' }));
          ws.send(JSON.stringify({ type: 'generation.started', node_id: msg.node_id, task_id: 't1', project_id: 'p1', seq: 1 }));
          ws.send(JSON.stringify({ type: 'task.progress', node_id: msg.node_id, task_id: 't1', state: 'PROGRESS', progress: 50, project_id: 'p1', seq: 2 }));
        }
      });
    });
    const store = createRealtimeStore({ url: `ws://127.0.0.1:${port}/ws`, WebSocket: WebSocket as any, storage: createMemoryStorage(), autoConnect: false, devTools: false });
    const seen: string[] = [];
    store.on('task.progress', (f) => seen.push(f.task_id));
    store.dispatch(subscribeProject('p1'));
    store.dispatch(startGeneration({ nodeId: 'n1', params: { prompt: 'a cat' } }));
    store.dispatch(connect());
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timeout ' + JSON.stringify(store.getState().connection))), 5000);
      const un = store.subscribe(() => { if (store.getState().nodes.entities.n1?.progress === 50) { clearTimeout(t); un(); resolve(); } });
    });
    expect(received.map((m) => m.type)).toEqual(['session.init', 'subscribe', 'start_generation']);
    expect(store.getState().outbox.entries).toEqual([]);
    expect(seen).toEqual(['t1']);
    expect(store.getState().connection.status).toBe('connected');
    store.dispose();
    expect(store.resources()).toEqual({ timers: 0, browserListeners: 0, frameListeners: 0, socket: false });
    wss.close();
  });
});
