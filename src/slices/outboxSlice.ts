/**
 * Commands on their way to the backend, oldest first. A command stays here until it is
 * delivered: acknowledged by a backend that acks, or written to an open socket of one that does
 * not. Overflow, expiry and invalid commands are counted, never silent.
 */
import { createSlice } from '@reduxjs/toolkit';
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
import { addIngestCases, caseFor, withoutUnrelatedBursts } from './ingestCases.js';

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

const initialState: OutboxState = {
  entries: [],
  dropped: { overflow: 0, expired: 0, invalid: 0, rejected: 0, discarded: 0 },
  recentDrops: [],
  delivered: 0,
};

function drop(state: OutboxState, ids: readonly string[], why: DroppedCommand['why'], at: number, detail?: string) {
  const set = new Set(ids);
  const kept: OutboxEntry[] = [];
  for (const entry of state.entries) {
    if (!set.has(entry.commandId)) {
      kept.push(entry);
      continue;
    }
    state.dropped[why] += 1;
    state.recentDrops.push({ commandId: entry.commandId, type: entry.frame.type, node_id: entry.frame.node_id, why, detail, at });
  }
  if (state.recentDrops.length > MAX_RECENT_DROPS) state.recentDrops.splice(0, state.recentDrops.length - MAX_RECENT_DROPS);
  state.entries = kept;
}

const on = caseFor<OutboxState>();
const ingestTypes = new Set<string>();

const outboxSlice = createSlice({
  name: 'outbox',
  initialState,
  reducers: {},
  extraReducers: (builder) => {
    builder
      .addCase(startGeneration, (state, { payload }) => {
        state.entries.push({ commandId: payload.commandId, frame: startGenerationFrame(payload), enqueuedAt: payload.requestedAt, sends: 0 });
      })
      .addCase(cancelGeneration, (state, { payload }) => {
        state.entries.push({ commandId: payload.commandId, frame: cancelGenerationFrame(payload), enqueuedAt: payload.requestedAt, sends: 0 });
      })
      .addCase(disconnect, (state, { payload }) => {
        // Logging out discards what was waiting: it must not be sent, nor stored again.
        if (payload.forgetSession) {
          drop(state, state.entries.map((entry) => entry.commandId), 'discarded', payload.requestedAt);
        }
      })
      .addCase(sessionLoaded, (state, { payload }) => {
        const known = new Set(state.entries.map((entry) => entry.commandId));
        const restored = payload.outbox.filter((entry) => !known.has(entry.commandId));
        state.entries = [...restored, ...state.entries];
      })
      .addCase(outboxSent, (state, { payload }) => {
        const ids = new Set(payload.commandIds);
        for (const entry of state.entries) {
          if (!ids.has(entry.commandId)) continue;
          entry.sentAt = payload.at;
          entry.sends += 1;
        }
      })
      .addCase(outboxDelivered, (state, { payload }) => {
        const ids = new Set(payload.commandIds);
        const before = state.entries.length;
        state.entries = state.entries.filter((entry) => !ids.has(entry.commandId));
        state.delivered += before - state.entries.length;
      })
      .addCase(outboxOverflowed, (state, { payload }) => drop(state, payload.commandIds, 'overflow', payload.at))
      .addCase(outboxExpired, (state, { payload }) => drop(state, payload.commandIds, 'expired', payload.at))
      .addCase(commandInvalid, (state, { payload }) =>
        drop(state, [payload.commandId], 'invalid', payload.at, payload.reason),
      );
    addIngestCases(builder, [
      on(commandAcknowledged, (state, { payload: { frame, receivedAt } }) => {
        const index = state.entries.findIndex((entry) => entry.commandId === frame.command_id);
        if (index < 0) return;
        if (frame.status === 'rejected') {
          drop(state, [frame.command_id], 'rejected', receivedAt, frame.error);
          return;
        }
        state.entries.splice(index, 1);
        state.delivered += 1;
      }),
    ], ingestTypes);
  },
});

export const outboxReducer = withoutUnrelatedBursts(outboxSlice, ingestTypes);
