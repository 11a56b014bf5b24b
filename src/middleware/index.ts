export * from './backoff.js';
export * from './url.js';
export * from './storage.js';
export * from './options.js';
export * from './listeners.js';
export * from './socketMiddleware.js';
