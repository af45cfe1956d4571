// Database: none (this file runs once, in the SQLite pass of scripts/test.sh)
// Stop sequences (api/_lib/inference/stop.ts) on hand-made token streams: what is sent, when, and where it ends.
// The invariants checked on every stream: the text sent is never part of a stop sequence, each token id is sent
// at most once and in order, and the text sent is the generated text up to the first stop sequence (all of it
// when none matched).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StopFilter, stopSequences } from '../api/_lib/inference/stop.js';

interface Run { sent: [number, string][]; stoppedAt: number | null; filter: StopFilter; snapshots: string[] }

/** Pushes the pieces as tokens 0, 1, 2, ... until the filter says stop; records what was sent after each push. */
function run(stops: string[], pieces: string[]): Run {
  const sent: [number, string][] = [];
  const filter = new StopFilter(stops, (id, text) => sent.push([id, text]));
  const snapshots: string[] = [];
  let stoppedAt: number | null = null;
  for (const [i, piece] of pieces.entries()) {
    const stop = filter.push(i, piece);
    snapshots.push(sent.map(([, t]) => t).join(''));
    if (stop) { stoppedAt = i; break; }
  }
  if (stoppedAt === null) filter.end();
  // invariants
  const ids = sent.map(([id]) => id);
  assert.deepEqual(ids, [...new Set(ids)].sort((a, b) => a - b), 'ids sent once each, in order');
  const joined = sent.map(([, t]) => t).join('');
  assert.equal(joined, filter.text);
  const whole = pieces.join('');
  const first = Math.min(...stops.map((s) => whole.indexOf(s)).filter((i) => i >= 0), Infinity);
  assert.equal(joined, Number.isFinite(first) ? whole.slice(0, first) : whole, 'the text before the first stop sequence');
  return { sent, stoppedAt, filter, snapshots };
}

test('a stop sequence across token boundaries: the first part is held back, nothing of it is sent, generation stops', () => {
  const r = run(['Answer:'], ['The ', 'Ans', 'w', 'er', ': 7', ' more']);
  assert.equal(r.stoppedAt, 4, 'stops at the token completing the stop sequence, not later');
  assert.equal(r.filter.tokenCount, 5);
  assert.equal(r.filter.matched, true);
  assert.equal(r.filter.text, 'The ');
  // while "Ans", "w", "er" could still become "Answer:" they were not sent
  assert.deepEqual(r.snapshots, ['The ', 'The ', 'The ', 'The ', 'The ']);
  assert.deepEqual(r.sent, [[0, 'The ']]);
});

test('held text is sent once it can no longer become a stop sequence', () => {
  const r = run(['Answer:'], ['An', 'swer', ' is 7']);
  assert.equal(r.stoppedAt, null);
  assert.equal(r.filter.matched, false);
  assert.deepEqual(r.snapshots, ['', '', 'Answer is 7']);
  assert.deepEqual(r.sent, [[0, 'An'], [1, 'swer'], [2, ' is 7']]);
});

test('no match: everything is sent, the tail held back until the end', () => {
  const r = run(['\n\n'], ['a', 'b\n', 'c', 'd\n']);
  assert.equal(r.filter.matched, false);
  assert.equal(r.filter.tokenCount, 4);
  assert.deepEqual(r.snapshots, ['a', 'a', 'ab\nc', 'ab\nc'], 'a trailing newline waits for the next token');
  assert.equal(r.filter.text, 'ab\ncd\n', 'end() sends what was held');
});

test('several stop sequences: the earliest in the text wins, whichever is listed first', () => {
  const r = run(['zz', 'b'], ['a', 'bzz', 'c']);
  assert.equal(r.stoppedAt, 1);
  assert.equal(r.filter.text, 'a');
  const s = run(['cd', 'bcd'], ['ab', 'c', 'd']);
  assert.equal(s.filter.text, 'a', 'bcd starts before cd');
  assert.deepEqual(s.sent, [[0, 'a']], 'the token the stop sequence starts in is sent with the text before it');
});

test('a stop sequence at the very start: nothing is sent', () => {
  const r = run(['Hello'], ['Hel', 'lo world']);
  assert.equal(r.stoppedAt, 1);
  assert.equal(r.filter.text, '');
  assert.deepEqual(r.sent, []);
  const one = run(['.'], ['.']);
  assert.equal(one.stoppedAt, 0);
  assert.deepEqual(one.sent, []);
});

test('a stop sequence inside one token, and tokens with no text (specials, half a character)', () => {
  const r = run(['STOP'], ['x', '', 'aSTOPb']);
  assert.equal(r.stoppedAt, 2);
  assert.deepEqual(r.sent, [[0, 'x'], [1, ''], [2, 'a']]);
  assert.equal(r.filter.tokenCount, 3);
});

test('overlapping prefixes: "aab" after "aa" still matches stop "ab"', () => {
  const r = run(['ab'], ['a', 'a', 'b']);
  assert.equal(r.stoppedAt, 2);
  assert.equal(r.filter.text, 'a');
});

test('push after a match changes nothing', () => {
  const sent: string[] = [];
  const f = new StopFilter(['x'], (_id, t) => sent.push(t));
  assert.equal(f.push(0, 'ax'), true);
  assert.equal(f.push(1, 'more'), true);
  f.end();
  assert.deepEqual(sent, ['a']);
  assert.equal(f.tokenCount, 1);
});

test('stopSequences: OpenAI\'s forms, and refusals', () => {
  assert.deepEqual(stopSequences(undefined), []);
  assert.deepEqual(stopSequences(null), []);
  assert.deepEqual(stopSequences('\n'), ['\n']);
  assert.deepEqual(stopSequences(['a', 'b']), ['a', 'b']);
  for (const bad of [3, ['a', 2], ['a', 'b', 'c', 'd', 'e'], [''], '', 'x'.repeat(257)]) {
    assert.throws(() => stopSequences(bad), (e: any) => e.extensions?.code === 'BAD_USER_INPUT', JSON.stringify(bad));
  }
});
