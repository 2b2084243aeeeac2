import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildTopology } from '../../src/sim/topology.js';
import { Rng } from '../../src/sim/rng.js';

test('near-complete small networks (17 to 24 nodes at 8 outbound) get k distinct outbound links per node, connected', () => {
  for (let n = 17; n <= 24; n++) {
    for (let seed = 1; seed <= 6; seed++) {
      const g = buildTopology(n, 8, 117, 50, 0.5, Rng.stream(seed, 2));
      const outCount = new Int32Array(n);
      const pairs = new Set<string>();
      const adj: number[][] = Array.from({ length: n }, () => []);
      for (let l = 0; l < g.linkA.length; l++) {
        const a = g.linkA[l]!;
        const b = g.linkB[l]!;
        assert.ok(a !== b, `n=${n} seed=${seed}: no self link`);
        const key = `${Math.min(a, b)},${Math.max(a, b)}`;
        assert.not.ok(pairs.has(key), `n=${n} seed=${seed}: pair ${key} linked twice`);
        pairs.add(key);
        outCount[a]!++;
        adj[a]!.push(b);
        adj[b]!.push(a);
      }
      for (let u = 0; u < n; u++) assert.is(outCount[u], 8, `n=${n} seed=${seed}: node ${u} outbound`);
      const seen = new Set([0]);
      const stack = [0];
      while (stack.length > 0) for (const v of adj[stack.pop()!]!) if (!seen.has(v)) (seen.add(v), stack.push(v));
      assert.is(seen.size, n, `n=${n} seed=${seed}: connected`);
    }
  }
});

test('the same seed gives the same graph', () => {
  const a = buildTopology(18, 8, 117, 50, 0.5, Rng.stream(7, 2));
  const b = buildTopology(18, 8, 117, 50, 0.5, Rng.stream(7, 2));
  assert.equal(Array.from(a.linkB), Array.from(b.linkB));
});

test.run();
