/**
 * Commands on their way to the backend, oldest first. A command stays here until it is
 * delivered: acknowledged by a backend that acks, or written to an open socket of one that does
 * not. Overflow, expiry and invalid commands are counted, never silent.
 */
import { cancelGeneration, disconnect, startGeneration } from './commands.js';
import { cancelGenerationFrame, startGenerationFrame, type CommandFrame } from './commandFrames.js';
import {
  commandInvalid,
  outboxDelivered,
  outboxExpired,
  outboxOverflowed,
  outboxSent,
  sessionLoaded,
} from './deliveryEvents.js';
import { commandAcknowledged } from './frameEvents.js';
import { freezeDeep } from './cow.js';
import { copyCaseFor, copyReducer } from './ingestCases.js';

export interface OutboxEntry {
  commandId: string;
  frame: CommandFrame;
  enqueuedAt: number;
  /** Last time it was written to a socket; undefined while never sent. */
  sentAt?: number;
  /** How many times it was written (resends after reconnects). */
  sends: number;
}

export interface DroppedCommand {
  commandId: string;
  type: CommandFrame['type'];
  node_id: string;
  why: 'overflow' | 'expired' | 'invalid' | 'rejected' | 'discarded';
  detail?: string;
  at: number;
}

export interface OutboxState {
  entries: OutboxEntry[];
  /** Totals since the store started. */
  dropped: { overflow: number; expired: number; invalid: number; rejected: number; discarded: number };
  /** The most recent drops (bounded), for "3 commands dropped" with details. */
  recentDrops: DroppedCommand[];
  delivered: number;
}

export const MAX_RECENT_DROPS = 20;

const initialState: OutboxState = freezeDeep({
  entries: [],
  dropped: { overflow: 0, expired: 0, invalid: 0, rejected: 0, discarded: 0 },
  recentDrops: [],
  delivered: 0,
});

/**
 * Takes the commands of `ids` out of the queue, counted under `why` and recorded in the recent
 * drops. `state` is a shallow copy (see ./ingestCases.ts): its arrays and counts are replaced,
 * never written into. Nothing changes when no entry has one of the ids.
 */
function drop(state: OutboxState, ids: readonly string[], why: DroppedCommand['why'], at: number, detail?: string) {
  const set = new Set(ids);
  const kept: OutboxEntry[] = [];
  const drops: DroppedCommand[] = [];
  for (const entry of state.entries) {
    if (!set.has(entry.commandId)) {
      kept.push(entry);
      continue;
    }
    drops.push({ commandId: entry.commandId, type: entry.frame.type, node_id: entry.frame.node_id, why, detail, at });
  }
  if (drops.length === 0) return;
  state.dropped = { ...state.dropped, [why]: state.dropped[why] + drops.length };
  const recent = [...state.recentDrops, ...drops];
  state.recentDrops = recent.length > MAX_RECENT_DROPS ? recent.slice(recent.length - MAX_RECENT_DROPS) : recent;
  state.entries = kept;
}

function enqueue(state: OutboxState, entry: OutboxEntry) {
  state.entries = [...state.entries, entry];
}

const on = copyCaseFor<OutboxState>();

/**
 * Each case writes the fields of a shallow copy of the state (see ./ingestCases.ts): the copy
 * is kept only when a field changed.
 */
export const outboxReducer = copyReducer<OutboxState>({
  initialState,
  cases: [
    on(startGeneration, (state, { payload }) => {
      enqueue(state, { commandId: payload.commandId, frame: startGenerationFrame(payload), enqueuedAt: payload.requestedAt, sends: 0 });
    }),
    on(cancelGeneration, (state, { payload }) => {
      enqueue(state, { commandId: payload.commandId, frame: cancelGenerationFrame(payload), enqueuedAt: payload.requestedAt, sends: 0 });
    }),
    on(disconnect, (state, { payload }) => {
      // Logging out discards what was waiting: it must not be sent, nor stored again.
      if (payload.forgetSession) {
        drop(state, state.entries.map((entry) => entry.commandId), 'discarded', payload.requestedAt);
      }
    }),
    on(sessionLoaded, (state, { payload }) => {
      const known = new Set(state.entries.map((entry) => entry.commandId));
      const restored = payload.outbox.filter((entry) => !known.has(entry.commandId));
      if (restored.length > 0) state.entries = [...restored, ...state.entries];
    }),
    on(outboxSent, (state, { payload }) => {
      const ids = new Set(payload.commandIds);
      let entries: OutboxEntry[] | undefined;
      state.entries.forEach((entry, index) => {
        if (!ids.has(entry.commandId)) return;
        entries ??= [...state.entries];
        entries[index] = { ...entry, sentAt: payload.at, sends: entry.sends + 1 };
      });
      if (entries) state.entries = entries;
    }),
    on(outboxDelivered, (state, { payload }) => {
      const ids = new Set(payload.commandIds);
      const kept: OutboxEntry[] = [];
      for (const entry of state.entries) if (!ids.has(entry.commandId)) kept.push(entry);
      if (kept.length === state.entries.length) return;
      state.delivered += state.entries.length - kept.length;
      state.entries = kept;
    }),
    on(outboxOverflowed, (state, { payload }) => drop(state, payload.commandIds, 'overflow', payload.at, payload.detail)),
    on(outboxExpired, (state, { payload }) => drop(state, payload.commandIds, 'expired', payload.at)),
    on(commandInvalid, (state, { payload }) => drop(state, [payload.commandId], 'invalid', payload.at, payload.reason)),
  ],
  frameCases: [
    on(commandAcknowledged, (state, { payload: { frame, receivedAt } }) => {
      const index = state.entries.findIndex((entry) => entry.commandId === frame.command_id);
      if (index < 0) return;
      if (frame.status === 'rejected') {
        drop(state, [frame.command_id], 'rejected', receivedAt, frame.error);
        return;
      }
      const entries = [...state.entries];
      entries.splice(index, 1);
      state.entries = entries;
      state.delivered += 1;
    }),
  ],
});
