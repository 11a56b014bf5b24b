/**
 * Whether this is a production build: the one place that decides it, for every layer (the
 * DevTools default, freezing the state, the development-only checks).
 *
 * `process.env.NODE_ENV` is read bare, as Redux Toolkit reads it: bundlers (Vite, esbuild,
 * webpack, Rollup's replace plugin) replace that exact expression with a string, and leave no
 * `process` behind in a browser. `globalThis.process?.env` is not replaced, so it always read
 * "not production" in a browser build; a `typeof process` guard always read "no process" in
 * one, development builds included. The try/catch is the guard instead: it keeps an unbundled
 * import (no bundler, no `process`) from throwing.
 *
 * Code only development needs (a check, a middleware) is gated with
 * `!isProduction() && process.env.NODE_ENV !== 'production'`: the answer is isProduction()'s
 * (the bare read runs only after it said development, so only where `process` exists or the
 * expression was replaced), and the bare read lets a bundler fold the condition to false in a
 * production build and drop the gated code, which it cannot do through a function call.
 */
export function isProduction(): boolean {
  try {
    return process.env.NODE_ENV === 'production';
  } catch {
    // Nothing replaced the expression and there is no `process`: no build said "development".
    return true;
  }
}

