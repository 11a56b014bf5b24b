/**
 * Why the copy-on-write passes copy state arrays with a spread (see src/slices/cow.ts): V8 runs
 * slice/concat/filter on frozen arrays on a slow generic path. `node bench/frozen-arrays.mjs`
 * prints ns per copy of a 500-id array, frozen and not, best of 5 rounds.
 */
const ids = Array.from({ length: 500 }, (_, i) => `celery-${i}-5b0e6c1a`);
const frozen = Object.freeze(ids.slice());
const ways = {
  'slice()': (a) => a.slice(),
  'concat()': (a) => a.concat(),
  'filter()': (a) => a.filter((id) => id !== 'x'),
  '[...spread]': (a) => [...a],
};
const N = 20_000;
for (const [name, copy] of Object.entries(ways)) {
  const row = [];
  for (const [kind, array] of [['plain', ids], ['frozen', frozen]]) {
    let best = Infinity;
    for (let round = 0; round < 5; round++) {
      let n = 0;
      const start = performance.now();
      for (let i = 0; i < N; i++) n += copy(array).length;
      if (n !== N * 500) throw new Error('copy lost items');
      best = Math.min(best, ((performance.now() - start) * 1e6) / N);
    }
    row.push(`${kind} ${best.toFixed(0)} ns`);
  }
  console.log(`${name.padEnd(12)} ${row.join('   ')}`);
}
