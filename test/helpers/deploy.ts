// One-line helpers for the deployment tests: upload a blob, register it as an artifact, deploy it.
import crypto from 'node:crypto';
import type { TestServer } from './server.js';

export async function uploadBlob(t: TestServer, bytes: Buffer, key = t.adminKey): Promise<string> {
  const sha = crypto.createHash('sha256').update(bytes).digest('hex');
  const r = await fetch(`${t.url}/blobs/${sha}`, { method: 'PUT', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-tar' }, body: new Uint8Array(bytes) });
  if (r.status >= 300) throw new Error(`PUT /blobs failed: ${r.status} ${await r.text()}`);
  return sha;
}

export async function registerBundle(t: TestServer, archive: Buffer, name = 'student') {
  const sha = await uploadBlob(t, archive);
  return t.gql(`mutation($i: RegisterArtifactInput!) { registerArtifact(input: $i) { id kind size metadata } }`,
    { i: { blobSha256: sha, kind: 'BUNDLE', name } });
}

export async function deploy(t: TestServer, name: string, artifactId: string, note?: string, variant?: string) {
  return t.gql(`mutation($i: DeployInput!) { deploy(input: $i) { name status liveRevision { revision variant } } }`, { i: { name, artifactId, note, variant } });
}

/** POST a JSON body to an inference route. */
export async function post(t: TestServer, route: string, body: unknown, key: string | null = t.adminKey) {
  const r = await fetch(`${t.url}${route}`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, json, text, headers: r.headers };
}

/** Parses a server-sent-events body into { event, data } records. */
export function parseSse(text: string): { event: string; data: string }[] {
  return text.split('\n\n').filter((b) => b.trim()).map((block) => {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    return { event, data: data.join('\n') };
  });
}
