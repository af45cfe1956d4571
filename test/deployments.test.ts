// Artifacts and deployments: bundle checks on register and load, revisions, atomic switch, rollback.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadBundle, readManifest, unpackBundle } from '../api/_lib/inference/bundle.js';
import { StudentRuntime } from '../api/_lib/inference/runtime.js';
import { readTar } from '../api/_lib/archive/tar.js';
import { findPython, studentBundle, type BundleFixture, longestAnswer } from './helpers/bundle.js';
import { deploy, post, registerBundle, uploadBlob } from './helpers/deploy.js';
import { errorCode, startTestServer, type TestServer } from './helpers/server.js';
import { until } from './helpers/until.js';

const { reason } = findPython();

/** A copy of the bundle directory, optionally altered, archived with tar (plain or gzipped). */
function archiveOf(fx: BundleFixture, alter?: (dir: string) => void, gzip = true): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-bundle-copy-'));
  fs.cpSync(fx.bundleDir, path.join(dir, 'student'), { recursive: true });
  alter?.(path.join(dir, 'student'));
  const out = path.join(dir, gzip ? 'b.tar.gz' : 'b.tar');
  execFileSync('tar', ['-C', dir, gzip ? '-czf' : '-cf', out, 'student']);
  return fs.readFileSync(out);
}

describe('deployments', { skip: reason }, () => {
  let fx: BundleFixture;
  let t: TestServer;
  before(async () => {
    fx = await studentBundle();
    t = await startTestServer({ RIL_INFER_RATE_LIMIT: '0' });
  });
  after(async () => { await t?.close(); });

  test('the tar reader reads GNU tar archives, gzipped or not, with a top-level folder', async () => {
    for (const gz of [true, false]) {
      const names = (await readTar(archiveOf(fx, undefined, gz))).map((e) => e.path).sort();
      assert.deepEqual(names, ['student/decode.onnx', 'student/manifest.json', 'student/prefill.onnx', 'student/tokenizer.json']);
    }
  });

  test('registerArtifact refuses a BUNDLE that is not a bundle or fails its sha256s', async () => {
    const junk = await uploadBlob(t, Buffer.from('not a tar archive'));
    let r = await t.gql(`mutation($i: RegisterArtifactInput!) { registerArtifact(input: $i) { id } }`, { i: { blobSha256: junk, kind: 'BUNDLE', name: 'x' } });
    assert.equal(errorCode(r), 'BAD_USER_INPUT');
    assert.match(r.errors![0].message, /not a tar archive/);
    const tampered = archiveOf(fx, (dir) => {
      const f = path.join(dir, 'decode.onnx');
      const b = fs.readFileSync(f);
      b[b.length - 1] ^= 1;
      fs.writeFileSync(f, b);
    });
    r = await registerBundle(t, tampered);
    assert.equal(errorCode(r), 'BAD_USER_INPUT');
    assert.match(r.errors![0].message, /decode\.onnx sha256 [0-9a-f]{64} does not match the manifest's/);
    r = await t.gql(`mutation($i: RegisterArtifactInput!) { registerArtifact(input: $i) { id } }`, { i: { blobSha256: 'f'.repeat(64), kind: 'BUNDLE', name: 'x' } });
    assert.match(r.errors![0].message, /not uploaded/);
    // a bundle altered on disk after unpacking is refused on load
    const dir = await unpackBundle(fx.archive, 'a'.repeat(64), fs.mkdtempSync(path.join(os.tmpdir(), 'ril-bundles-')));
    assert.doesNotThrow(() => loadBundle(dir));
    fs.appendFileSync(path.join(dir, 'prefill.onnx'), Buffer.from([0]));
    assert.throws(() => loadBundle(dir), /prefill\.onnx sha256 .* does not match/);
    // the service learns the family from the manifest alone (hashing nothing); the runtime's load is what refuses
    assert.equal(readManifest(dir).model_family, 'ril-vlm-v1');
    await assert.rejects(StudentRuntime.load(dir, { threads: 1 }), /prefill\.onnx sha256 .* does not match/);
  });

  test('an unpacked bundle holds its manifest and listed files only; concurrent unpacks share one', async () => {
    // an unlisted entry (here 8 MB of zeros, a few KB gzipped) is accepted in the archive but never written
    const padded = archiveOf(fx, (dir) => fs.writeFileSync(path.join(dir, 'padding.bin'), Buffer.alloc(8 << 20)));
    assert.ok(padded.length < fx.archive.length + (100 << 10), 'the padding compresses to almost nothing');
    const dir = await unpackBundle(padded, 'b'.repeat(64), fs.mkdtempSync(path.join(os.tmpdir(), 'ril-bundles-')));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['decode.onnx', 'manifest.json', 'prefill.onnx', 'tokenizer.json']);
    assert.doesNotThrow(() => loadBundle(dir));
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-bundles-'));
    const dirs = await Promise.all(Array.from({ length: 4 }, () => unpackBundle(fx.archive, 'c'.repeat(64), root)));
    assert.deepEqual(new Set(dirs), new Set([path.join(root, 'c'.repeat(64))]));
    assert.deepEqual(fs.readdirSync(root), ['c'.repeat(64)], 'one unpack, no temporary folder left');
  });

  test('deploys make revisions; the switch is atomic; rollback is one mutation', async () => {
    const a1 = (await registerBundle(t, fx.archive, 'v1')).data.registerArtifact.id;
    const a2 = (await registerBundle(t, archiveOf(fx, undefined, false), 'v2')).data.registerArtifact.id;
    assert.equal((await deploy(t, 'sw', a1, 'first')).data.deploy.liveRevision.revision, 1);
    const ex = longestAnswer(fx);
    const body = { deployment: 'sw', image: fs.readFileSync(path.join(fx.data, ex.image)).toString('base64'), question: ex.question, max_tokens: 32 };
    // requests in flight when the switch happens finish on the revision they started on. Every slot of the
    // admission gate is held first, so all 8 have resolved revision 1's runtime and wait their turn when the deploy
    // switches (without it the test depended on the 8 outrunning the deploy's bundle load)
    const gate = t.platform.inference.gate;
    const holds = await Promise.all(Array.from({ length: t.platform.env.RIL_INFER_CONCURRENCY }, () => gate.acquire()));
    let inFlight: ReturnType<typeof post>[];
    try {
      inFlight = Array.from({ length: 8 }, () => post(t, '/v1/infer', body));
      await until(() => gate.load.queued === 8, 'the 8 requests to queue');
      const d2 = await deploy(t, 'sw', a2, 'second');
      assert.equal(d2.errors, undefined);
      assert.equal(d2.data.deploy.liveRevision.revision, 2);
    } finally {
      for (const release of holds) release();
    }
    for (const r of await Promise.all(inFlight)) {
      assert.equal(r.status, 200);
      assert.equal(r.json.revision, 1);
      assert.deepEqual(r.json.token_ids, ex.tokens);
    }
    assert.equal((await post(t, '/v1/infer', body)).json.revision, 2);
    const q = await t.gql(`{ deployment(name: "sw") { status liveRevision { revision } revisions { revision note live artifact { name kind } } latency { requests } } }`);
    assert.deepEqual(q.data.deployment.revisions, [
      { revision: 2, note: 'second', live: true, artifact: { name: 'v2', kind: 'BUNDLE' } },
      { revision: 1, note: 'first', live: false, artifact: { name: 'v1', kind: 'BUNDLE' } },
    ]);
    assert.equal(q.data.deployment.status, 'LIVE');
    assert.equal(q.data.deployment.latency.requests, 1);
    const rb = await t.gql(`mutation { rollbackDeployment(name: "sw") { liveRevision { revision } } }`);
    assert.equal(rb.data.rollbackDeployment.liveRevision.revision, 1);
    assert.equal((await post(t, '/v1/infer', body)).json.revision, 1);
    const fwd = await t.gql(`mutation { rollbackDeployment(name: "sw", revision: 2) { liveRevision { revision } } }`);
    assert.equal(fwd.data.rollbackDeployment.liveRevision.revision, 2);
    assert.equal(errorCode(await t.gql(`mutation { rollbackDeployment(name: "sw", revision: 9) { id } }`)), 'NOT_FOUND');
    assert.equal(errorCode(await t.gql(`mutation { rollbackDeployment(name: "nope") { id } }`)), 'NOT_FOUND');
    assert.equal(errorCode(await deploy(t, 'Bad Name', a1)), 'BAD_USER_INPUT');
    const list = await t.gql('{ deployments { name revisions { revision } } artifacts(kind: BUNDLE) { name size metadata } }');
    assert.deepEqual(list.data.deployments.map((d: any) => d.name), ['sw']);
    assert.equal(list.data.artifacts.length, 2);
  });

  test('deployment mutations need EDITOR; reads need a reading role', async () => {
    const viewer = await t.keyFor('VIEWER');
    assert.equal(errorCode(await t.gql(`mutation { rollbackDeployment(name: "sw") { id } }`, {}, viewer)), 'FORBIDDEN');
    assert.equal(errorCode(await t.gql(`{ deployments { name } }`, {}, viewer)), undefined);
    assert.equal(errorCode(await t.gql(`{ deployments { name } }`, {}, await t.keyFor('INFERENCE'))), 'FORBIDDEN');
  });
});
