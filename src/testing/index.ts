/**
 * canvas-realtime/testing: helpers for your own tests. Needs msw 2 (an optional peer dependency:
 * install it when you use this entry). Nothing here runs in production code.
 */
export { createRecordedBackend } from './recordedBackend.js';
export type { RecordedBackend, RecordedBackendOptions, SentFrame } from './recordedBackend.js';
