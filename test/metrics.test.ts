// Database: none (this file runs once, in the SQLite pass of scripts/test.sh)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { differingKeys, downsample } from '../api/_lib/experiments/metrics.js';

test('downsample keeps the budget, the ends and every bucket extreme, including the global min and max', () => {
  const pts = Array.from({ length: 1000 }, (_, i) => ({ step: i, value: Math.sin(i / 17) + (i === 613 ? 9 : 0) - (i === 271 ? 7 : 0) }));
  const out = downsample(pts, 50);
  assert.ok(out.length <= 50);
  assert.deepEqual(out[0], pts[0]);
  assert.deepEqual(out.at(-1), pts.at(-1));
  assert.ok(out.some((p) => p.step === 613), 'the spike survives');
  assert.ok(out.some((p) => p.step === 271), 'the dip survives');
  assert.deepEqual(out.map((p) => p.step), [...out.map((p) => p.step)].sort((a, b) => a - b), 'still in step order');
  assert.equal(downsample(pts.slice(0, 10), 50).length, 10, 'short series untouched');
});

test('differingKeys compares dotted keys, arrays by value, missing as null', () => {
  const d = differingKeys([{ a: { b: 1, c: [1, 2] }, s: 1 }, { a: { b: 1, c: [1, 3] }, s: 1, extra: true }]);
  assert.deepEqual(d, [{ key: 'a.c', values: [[1, 2], [1, 3]] }, { key: 'extra', values: [null, true] }]);
});
