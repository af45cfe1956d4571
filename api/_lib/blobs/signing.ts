// The server's URL-signing key: HMAC-SHA256 over short-lived blob download URLs (GET /blobs/<sha>?exp=..&sig=..)
// and over the names of S3 staging keys. From RIL_URL_SIGNING_SECRET, or (embedded only) generated once into
// $RIL_HOME/url-signing.key with mode 0600. Functions must share one secret, so there it is required.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Env } from '../env.js';

export const SIGNING_KEY_FILE = 'url-signing.key';

export class UrlSigner {
  constructor(private readonly key: Buffer) {}

  private mac(...parts: string[]): Buffer {
    return crypto.createHmac('sha256', this.key).update(parts.join('\n')).digest();
  }

  /** The signature that lets anyone GET /blobs/<sha256> until `exp` (unix seconds). */
  signBlob(sha256: string, exp: number): string {
    return this.mac('blob-get', sha256, String(exp)).toString('base64url');
  }

  /** Whether `sig` is this server's signature for (sha256, exp) and exp has not passed. Constant-time compare. */
  verifyBlob(sha256: string, exp: string | null, sig: string | null, nowMs = Date.now()): boolean {
    if (!exp || !sig || !/^\d{1,12}$/.test(exp)) return false;
    if (Number(exp) * 1000 <= nowMs) return false;
    const expected = this.mac('blob-get', sha256, exp);
    const given = Buffer.from(sig, 'base64url');
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  }

  /** A stable, unguessable name derived from `parts` (hex), e.g. an upload's staging key. */
  derive(label: string, ...parts: string[]): string {
    return this.mac(label, ...parts).toString('hex');
  }
}

/** Throws (a start-up error) when functions run without RIL_URL_SIGNING_SECRET. */
export function checkSigningConfig(env: Env): void {
  if (env.RIL_DEPLOYMENT === 'functions' && !env.RIL_URL_SIGNING_SECRET) {
    throw new Error('RIL_URL_SIGNING_SECRET is required when the platform runs as functions (RIL_DEPLOYMENT=functions or on Vercel): '
      + 'every instance must sign and verify blob URLs with the same secret (32+ characters, e.g. `openssl rand -hex 32`)');
  }
}

/**
 * The signer, created on first use: from RIL_URL_SIGNING_SECRET, else from $RIL_HOME/url-signing.key (written
 * once, 0600, by whichever process gets there first: temp file + link, so no reader sees a partial key).
 */
export function lazySigner(env: Env): () => UrlSigner {
  checkSigningConfig(env);
  let signer: UrlSigner | undefined;
  return () => (signer ??= new UrlSigner(env.RIL_URL_SIGNING_SECRET ? Buffer.from(env.RIL_URL_SIGNING_SECRET, 'utf8') : keyFile(env.home)));
}

function keyFile(home: string): Buffer {
  const file = path.join(home, SIGNING_KEY_FILE);
  const read = () => {
    const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex');
    if (key.length < 16) throw new Error(`${file} does not hold a key (64 hex digits); delete it to have a new one generated`);
    return key;
  };
  try {
    return read();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.mkdirSync(home, { recursive: true });
  const tmp = `${file}.${process.pid}.${crypto.randomUUID()}`;
  fs.writeFileSync(tmp, crypto.randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  try {
    fs.linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return read();
}
