// Database: none
// Temporary files a crashed process left behind are swept, once per folder, when the folder is first written to:
// the blob store's uploads (<home>/blobs/tmp) and interrupted bundle unpacks (<home>/bundles/.tmp-*). Only entries
// older than an hour go: a live process (a CLI command sharing RIL_HOME) may be writing the younger ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { STALE_TEMP_MS, sweepStaleTemp } from '../api/_lib/staleTemp.js';
import { unpackBundle } from '../api/_lib/inference/bundle.js';
import { leftover } from './helpers/fixtures.js';
import { until } from './helpers/until.js';

test('sweepStaleTemp removes matching entries older than the limit, once per folder', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-sweep-'));
  leftover(path.join(dir, '.tmp-old'), 2 * STALE_TEMP_MS, true);
  leftover(path.join(dir, '.tmp-young'), 60_000, true);
  leftover(path.join(dir, 'kept-old'), 2 * STALE_TEMP_MS);
  assert.deepEqual(await sweepStaleTemp(dir, (n) => n.startsWith('.tmp-')), ['.tmp-old']);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['.tmp-young', 'kept-old']);
  leftover(path.join(dir, '.tmp-later'), 2 * STALE_TEMP_MS);
  assert.deepEqual(await sweepStaleTemp(dir, (n) => n.startsWith('.tmp-')), [], 'once per folder per process');
  assert.deepEqual(await sweepStaleTemp(path.join(dir, 'missing'), () => true), [], 'a missing folder is no error');
});

test('the first bundle unpack into a folder sweeps the unpacks a crashed process left there', async () => {
  const bundles = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-bundles-'));
  leftover(path.join(bundles, `.tmp-${'a'.repeat(64)}-123-x`), 2 * STALE_TEMP_MS, true);
  leftover(path.join(bundles, `.tmp-${'b'.repeat(64)}-456-y`), 1000, true); // another process's, in progress
  // an archive that is not a bundle is refused after the sweep started: the sweep does not depend on the unpack
  await assert.rejects(unpackBundle(Buffer.from('not a tar'), 'c'.repeat(64), bundles));
  await until(() => !fs.existsSync(path.join(bundles, `.tmp-${'a'.repeat(64)}-123-x`)), 'the stale unpack to be swept').catch(() => {});
  assert.deepEqual(fs.readdirSync(bundles), [`.tmp-${'b'.repeat(64)}-456-y`]);
});
