export * from './vocabulary.js';
export * from './safety.js';
export * from './inbound.js';
export * from './outbound.js';
export * from './parse.js';
export * from './closeCodes.js';
export * from './recordedLine.js';
