// Database: none (this file runs once, in the SQLite pass of scripts/test.sh)
// Security: image URLs in inference requests (api/_lib/inference/input.ts loadImageInput, on every inference path)
// cannot make the server an SSRF proxy. Each test is an exploit attempt against real local HTTP servers that
// count the connections they receive: a refused URL must not have cost one. The settings are the env's
// (RIL_INFER_IMAGE_*), passed as loadEnv parses them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { loadEnv } from '../api/_lib/env.js';
import { loadImageInput } from '../api/_lib/inference/input.js';

interface Counted { server: http.Server; url: string; connections: number }

async function serve(handler: http.RequestListener): Promise<Counted> {
  const server = http.createServer(handler);
  const counted: Counted = { server, url: '', connections: 0 };
  server.on('connection', () => { counted.connections += 1; });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  counted.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return counted;
}

const settings = (env: Record<string, string>) => loadEnv({ RIL_HOME: '/tmp/ril-unused', ...env });
/** The operator's opt-ins a loopback image server needs (what the tests of the happy path use). */
const LOCAL = { RIL_INFER_IMAGE_HOSTS: '127.0.0.1', RIL_INFER_IMAGE_ALLOW_HTTP: '1', RIL_INFER_IMAGE_ALLOW_PRIVATE: '1' };

const refused = (pattern: RegExp) => (e: Error & { extensions?: { code?: string } }) => {
  assert.equal(e.extensions?.code, 'BAD_USER_INPUT', e.message);
  assert.match(e.message, pattern);
  return true;
};

describe('security: remote image URLs', () => {
  let png: Buffer;
  let target: Counted; // the place an attacker wants the server to reach
  let image: Counted; // serves an image
  let redirector: Counted;
  let big: Counted;
  let html: Counted;
  let slow: Counted;

  before(async () => {
    png = await sharp({ create: { width: 28, height: 28, channels: 3, background: '#345' } }).png().toBuffer();
    target = await serve((_req, res) => { res.writeHead(200, { 'content-type': 'image/png' }); res.end(png); });
    image = await serve((_req, res) => { res.writeHead(200, { 'content-type': 'image/png; charset=binary' }); res.end(png); });
    redirector = await serve((_req, res) => { res.writeHead(302, { location: `${target.url}/secret.png` }); res.end(); });
    big = await serve((_req, res) => { res.writeHead(200, { 'content-type': 'image/png' }); res.end(Buffer.alloc(50_000)); });
    html = await serve((_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html>internal dashboard</html>'); });
    slow = await serve(() => { /* never answers */ });
  });
  after(() => {
    for (const s of [target, image, redirector, big, html, slow]) { s?.server.closeAllConnections(); s?.server.close(); }
  });

  test('by default (no RIL_INFER_IMAGE_HOSTS) an image URL is refused and nothing is contacted', async () => {
    await assert.rejects(loadImageInput(`${target.url}/a.png`, 'image', settings({ RIL_INFER_IMAGE_ALLOW_HTTP: '1', RIL_INFER_IMAGE_ALLOW_PRIVATE: '1' })),
      refused(/remote image URLs are not fetched from this host/));
    assert.equal(target.connections, 0);
  });

  test('a host not on the list is refused before any DNS query or connection, whatever name reaches the same server', async () => {
    const port = new URL(target.url).port;
    for (const url of [`http://localhost:${port}/a.png`, `http://127.0.0.2:${port}/a.png`, `http://[::ffff:127.0.0.1]:${port}/a.png`,
      `http://images.example.com.127.0.0.1.nip.io:${port}/a.png`]) {
      await assert.rejects(loadImageInput(url, 'image', settings(LOCAL)), refused(/not fetched from this host/), url);
    }
    assert.equal(target.connections, 0);
  });

  test('a listed host that resolves to a private address is refused unless the operator allows private addresses', async () => {
    await assert.rejects(loadImageInput(`${target.url}/a.png`, 'image', settings({ ...LOCAL, RIL_INFER_IMAGE_ALLOW_PRIVATE: '0' })),
      refused(/127\.0\.0\.1:\d+ is not a public address/));
    assert.equal(target.connections, 0);
  });

  test('http is refused unless RIL_INFER_IMAGE_ALLOW_HTTP=1 (https only)', async () => {
    await assert.rejects(loadImageInput(`${target.url}/a.png`, 'image', settings({ ...LOCAL, RIL_INFER_IMAGE_ALLOW_HTTP: '0' })), refused(/must be https/));
    assert.equal(target.connections, 0);
  });

  test('a listed host that redirects to an internal address: the redirect is not followed', async () => {
    await assert.rejects(loadImageInput(`${redirector.url}/a.png`, 'image', settings(LOCAL)), refused(/redirect, which is not followed/));
    assert.equal(redirector.connections, 1);
    assert.equal(target.connections, 0, 'the redirect target was never contacted');
  });

  test('an oversized body is refused at RIL_INFER_MAX_BODY_BYTES', async () => {
    await assert.rejects(loadImageInput(`${big.url}/a.png`, 'image', settings({ ...LOCAL, RIL_INFER_MAX_BODY_BYTES: '10000' })),
      refused(/larger than 10000 bytes \(RIL_INFER_MAX_BODY_BYTES\)/));
  });

  test('a body that is not an image/* is refused (and never shown to the caller)', async () => {
    await assert.rejects(loadImageInput(`${html.url}/a.png`, 'image', settings(LOCAL)), (e: Error) => {
      refused(/did not answer with an image \(content-type "text\/html"\)/)(e);
      assert.doesNotMatch(e.message, /internal dashboard/);
      return true;
    });
  });

  test('a server that never answers is cut off at RIL_INFER_IMAGE_FETCH_MS', async () => {
    const t0 = Date.now();
    await assert.rejects(loadImageInput(`${slow.url}/a.png`, 'image', settings({ ...LOCAL, RIL_INFER_IMAGE_FETCH_MS: '300' })), refused(/longer than 300 ms/));
    assert.ok(Date.now() - t0 < 5000);
  });

  test('credentials in the URL are refused; a listed host with everything right is fetched', async () => {
    const port = new URL(image.url).port;
    await assert.rejects(loadImageInput(`http://user:pw@127.0.0.1:${port}/a.png`, 'image', settings(LOCAL)), refused(/credentials/));
    assert.equal(image.connections, 0);
    const bytes = await loadImageInput(`${image.url}/a.png`, 'image', settings(LOCAL));
    assert.deepEqual(bytes, png);
    assert.equal(image.connections, 1);
  });
});
