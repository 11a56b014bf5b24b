/**
 * The story's API, kept: `setupWebSocket(baseUrl)`, `getWebSocketClient()`, the client's
 * methods, and the `$wsState`, `$wsMessages`, `$taskProgress`, `$nodeStates`,
 * `$activeGenerations`, `$agentActivities`, `$narrativeProgress`, `$isConnected` stores with
 * the story's shapes. Built on createRealtimeStore and the bridge; the stores follow whichever
 * client setupWebSocket made last, and read as empty before that.
 *
 * This is a module singleton, as in the story. For several canvases on one page, or for
 * tests, use createRealtimeStore with setRealtimeStore (context) instead.
 */
import type { GenerationContext, GenerationParams } from '../protocol/index.js';
import {
  cancelGeneration,
  connect,
  disconnect,
  realtimeReducer,
  startGeneration,
  subscribeProject,
  unsubscribeProject,
  type RealtimeState,
} from '../slices/index.js';
import { isBrowser } from '../middleware/options.js';
import { selectNodeById } from '../selectors/index.js';
import { createRealtimeStore, type RealtimeStore, type RealtimeStoreOptions } from '../store/createRealtimeStore.js';
import { fromSelector, type ReadableStore } from './fromSelector.js';
import { commandForFrame } from './sendFrame.js';
import {
  selectActiveGenerationsSet,
  selectStoryAgentActivities,
  selectStoryNarrativeProgress,
  selectStoryNodeStates,
  selectStoryTaskProgress,
  selectWsMessages,
  selectWsState,
} from './storyShapes.js';

export class WebSocketClient {
  constructor(readonly store: RealtimeStore) {}

  connect(): void {
    this.store.dispatch(connect());
  }

  /** Closes the connection, stops retrying, and forgets the stored session (as in the story). */
  disconnect(): void {
    this.store.dispatch(disconnect());
  }

  /** Subscribes to a project's events; kept across reconnects and reloads. */
  subscribe(projectId: string): void {
    this.store.dispatch(subscribeProject(projectId));
  }

  unsubscribe(projectId: string): void {
    this.store.dispatch(unsubscribeProject(projectId));
  }

  /** Listens to frames of one type ('*' for all); returns the function that stops listening. */
  on: RealtimeStore['on'] = (type: string, callback: (frame: never) => void) =>
    this.store.on(type, callback as never);

  /** Sends start_generation with the filmmaking context; returns the command id. */
  startGeneration(nodeId: string, params: GenerationParams, context?: GenerationContext): string {
    return this.store.dispatch(startGeneration({ nodeId, params, context })).payload.commandId;
  }

  /** Sends cancel_generation for the node's current task; returns the command id. */
  cancelGeneration(nodeId: string): string {
    const taskId = selectNodeById(this.store.getState(), nodeId)?.task_id;
    return this.store.dispatch(cancelGeneration({ nodeId, taskId })).payload.commandId;
  }

  /**
   * Sends a frame of the outbound contract (start_generation, cancel_generation, subscribe,
   * unsubscribe; an object or its JSON text) as the command it is: through the outbox, with a
   * command id of its own (returned for the generation commands), so it waits out a lost link.
   * Anything else (another type, a frame that does not validate) throws a TypeError and nothing
   * is sent: the client never writes a frame to the socket raw. See ./sendFrame.ts.
   */
  send(data: unknown): string | undefined {
    const command = commandForFrame(data);
    this.store.dispatch(command);
    return 'commandId' in command.payload ? command.payload.commandId : undefined;
  }

  isConnected(): boolean {
    return this.store.getState().connection.status === 'connected';
  }
}

let client: WebSocketClient | null = null;
const clientListeners = new Set<() => void>();

/**
 * Creates the client (replacing any earlier one) and connects. During SSR, and in Node without
 * a WebSocket option, it does not connect unless `autoConnect: true` is passed.
 */
export function setupWebSocket(baseUrl?: string, options: RealtimeStoreOptions = {}): WebSocketClient {
  client?.store.dispose();
  const store = createRealtimeStore({
    ...options,
    url: baseUrl ?? options.url,
    autoConnect: options.autoConnect ?? (isBrowser() || options.WebSocket !== undefined),
  });
  client = new WebSocketClient(store);
  for (const listener of Array.from(clientListeners)) listener();
  return client;
}

export function getWebSocketClient(): WebSocketClient | null {
  return client;
}

/** Disposes the client made by setupWebSocket (tests, hot module reload). */
export function teardownWebSocket(): void {
  client?.store.dispose();
  client = null;
  for (const listener of Array.from(clientListeners)) listener();
}

let emptyState: RealtimeState | undefined;
const initial = () => (emptyState ??= realtimeReducer(undefined, { type: '@@canvas-realtime/empty' }));

/** A store that reads `selector` from the current client's state, following client changes. */
function storyStore<T>(selector: (state: RealtimeState) => T): ReadableStore<T> {
  return {
    subscribe(run, invalidate) {
      let detach: (() => void) | undefined;
      let hasValue = false;
      let last: T;
      const emit = (value: T) => {
        if (hasValue && value === last) return;
        hasValue = true;
        last = value;
        run(value);
      };
      const attach = () => {
        detach?.();
        detach = undefined;
        if (client) detach = fromSelector(client.store, selector).subscribe(emit, invalidate);
        else emit(selector(initial()));
      };
      attach();
      clientListeners.add(attach);
      return () => {
        clientListeners.delete(attach);
        detach?.();
      };
    },
  };
}

export const wsState = storyStore(selectWsState);
export const wsMessages = storyStore(selectWsMessages);
export const taskProgress = storyStore(selectStoryTaskProgress);
export const nodeStates = storyStore(selectStoryNodeStates);
export const activeGenerations = storyStore(selectActiveGenerationsSet);
export const agentActivities = storyStore(selectStoryAgentActivities);
export const narrativeProgress = storyStore(selectStoryNarrativeProgress);
export const isConnected = storyStore((state) => state.connection.status === 'connected');
