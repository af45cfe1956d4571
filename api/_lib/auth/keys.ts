// API keys and roles. A key is `ril_<43 chars of base64url>` (256 random bits); only its sha256 is stored.
// A fast hash is right here: the secret is high-entropy random, not a password, so it cannot be brute-forced,
// and lookups by hash stay one indexed query per request.
import crypto from 'node:crypto';
import type { PrismaClient } from '../db/index.js';
import { AppError, badInput, conflict, faultSummary, forbidden, unauthenticated } from '../errors.js';
import { noteCaller } from '../log.js';

export const ROLES = ['ADMIN', 'EDITOR', 'VIEWER', 'WORKER', 'INFERENCE'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  keyId: string;
  name: string;
  role: Role;
}

export const hashSecret = (secret: string) => crypto.createHash('sha256').update(secret).digest('hex');

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export async function createApiKey(prisma: PrismaClient, name: string, role: string) {
  if (!isRole(role)) throw badInput(`unknown role ${role}; one of ${ROLES.join(', ')}`);
  if (!name.trim()) throw badInput('a key needs a name');
  const secret = `ril_${crypto.randomBytes(32).toString('base64url')}`;
  const key = await prisma.apiKey.create({
    data: { name: name.trim(), role, prefix: secret.slice(0, 12), hash: hashSecret(secret) },
  });
  return { key, secret };
}

/** How stale `lastUsedAt` may get: it is written at most once per this interval per key (a conditional UPDATE
 * that also holds across instances), so recording use costs no write on almost every request. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** The database could not answer: 503 with a generic message. The caller may retry; the key was not judged. */
export const databaseUnavailable = () =>
  Object.assign(new AppError('SERVICE_UNAVAILABLE' as never, 'the service is temporarily unavailable; retry shortly'), { retryAfter: 1 });

/** Resolves `Authorization: Bearer <key>` (or a bare key) to a principal; null when absent. Only a key that is
 * unknown or revoked is UNAUTHENTICATED (401); a database fault while looking it up is SERVICE_UNAVAILABLE (503,
 * the raw error logged here and never sent), so an outage neither reads as "your key is bad" nor leaks internals. */
/** The secret of `Authorization: Bearer <key>` (or of a bare key); '' when there is none. */
const secretOf = (header: string) => header.replace(/^Bearer\s+/i, '').trim();

export async function authenticate(prisma: PrismaClient, header: string | undefined | null, now = new Date()): Promise<Principal | null> {
  if (!header) return null;
  const secret = secretOf(header);
  if (!secret) return null;
  let key;
  try {
    key = await prisma.apiKey.findUnique({ where: { hash: hashSecret(secret) } });
  } catch (err) {
    console.error('[auth] key lookup failed:', faultSummary(err));
    throw databaseUnavailable();
  }
  if (!key || key.revokedAt || !isRole(key.role)) {
    noteCaller('invalid');
    throw unauthenticated('invalid or revoked API key');
  }
  noteCaller(key.role);
  if (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) await touchKey(prisma, key.id, now);
  return { keyId: key.id, name: key.name, role: key.role };
}

/** Most keys one KeyCache holds (it is cleared when full: only valid keys enter it, and an operator has few). */
const KEY_CACHE_MAX = 10_000;

/** The KeyCaches of this process by database client, so a revocation made here reaches them at once. */
const cachesOf = new WeakMap<object, Set<KeyCache>>();

/**
 * A short-TTL, per-process cache of authenticated keys in front of `authenticate` (RIL_KEY_CACHE_MS; 0 = off).
 * Only keys that were valid are cached (an unknown, revoked or malformed key goes to the database every time),
 * by the sha256 of the secret, for at most `ttlMs` after the database last said the key was valid. So:
 * - a key revoked through this process (Mutation.revokeApiKey -> forgetKey) is refused here at once;
 * - a key revoked through another instance, or deleted from the database, is refused here at the latest `ttlMs`
 *   after that instance's revocation (the bound documented in docs/security.md);
 * - a database fault on a cache miss is 503 as before; a hit needs no database.
 */
export class KeyCache {
  private readonly entries = new Map<string, { principal: Principal; until: number }>();

  constructor(private readonly prisma: PrismaClient, readonly ttlMs: number, private readonly clock: () => number = Date.now) {
    if (ttlMs > 0) {
      let set = cachesOf.get(prisma);
      if (!set) cachesOf.set(prisma, (set = new Set()));
      set.add(this);
    }
  }

  async authenticate(header: string | undefined | null): Promise<Principal | null> {
    if (this.ttlMs <= 0 || !header) return authenticate(this.prisma, header);
    const secret = secretOf(header);
    if (!secret) return null;
    const hash = hashSecret(secret);
    const hit = this.entries.get(hash);
    const now = this.clock();
    if (hit && hit.until > now) {
      noteCaller(hit.principal.role);
      return hit.principal;
    }
    if (hit) this.entries.delete(hash);
    const principal = await authenticate(this.prisma, header, new Date(now)); // throws for a bad or revoked key
    if (principal) {
      if (this.entries.size >= KEY_CACHE_MAX) this.entries.clear();
      this.entries.set(hash, { principal, until: now + this.ttlMs });
    }
    return principal;
  }

  /** Drops a key's entries (its revocation was made in this process). */
  forget(keyId: string) {
    for (const [hash, e] of this.entries) if (e.principal.keyId === keyId) this.entries.delete(hash);
  }

  get size() { return this.entries.size; }
}

/** A key was revoked through this process: every KeyCache of this database client refuses it from now on. */
export function forgetKey(prisma: PrismaClient, keyId: string) {
  for (const cache of cachesOf.get(prisma) ?? []) cache.forget(keyId);
}

/** Records a use; conditional, so concurrent requests on several instances write it once per interval. A failure
 * is logged and ignored: bookkeeping must not refuse a valid key. */
async function touchKey(prisma: PrismaClient, id: string, now: Date) {
  const stale = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
  try {
    await prisma.apiKey.updateMany({ where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lte: stale } }] }, data: { lastUsedAt: now } });
  } catch (err) {
    console.error('[auth] recording lastUsedAt failed:', faultSummary(err));
  }
}

/** Throws unless the caller holds one of `roles` (ADMIN always passes). */
export function requireRole(principal: Principal | null, roles: readonly Role[]): Principal {
  if (!principal) throw unauthenticated();
  noteCaller(principal.role); // the request log's role, also for callers served from an auth cache
  if (principal.role !== 'ADMIN' && !roles.includes(principal.role)) {
    throw forbidden(`role ${principal.role} may not do this (needs ${['ADMIN', ...roles].join(' or ')})`);
  }
  return principal;
}

/** Creates the first admin key on an EMPTY key table (a fresh installation); returns its secret (to print once) or
 * null. Never on a database that has keys, even if every admin key was revoked: a server restart must not mint and
 * print a new admin secret (into logs) — the operator runs `ril keys bootstrap` for that. */
export async function ensureBootstrapAdmin(prisma: PrismaClient): Promise<string | null> {
  if ((await prisma.apiKey.count()) > 0) return null;
  return (await createApiKey(prisma, 'bootstrap-admin', 'ADMIN')).secret;
}

/** Whether some non-revoked ADMIN key exists. */
export async function hasActiveAdmin(prisma: PrismaClient): Promise<boolean> {
  return (await prisma.apiKey.count({ where: { role: 'ADMIN', revokedAt: null } })) > 0;
}

/** `ril keys bootstrap`: a new ADMIN key, made explicitly by an operator on the server (direct database access).
 * Refused (CONFLICT) while an active admin key exists, unless `force` (a lost admin secret). */
export async function bootstrapAdmin(prisma: PrismaClient, opts: { force?: boolean; name?: string } = {}) {
  if (!opts.force && await hasActiveAdmin(prisma)) {
    throw conflict('an active ADMIN key exists: create keys with it (createApiKey), or pass --force to make another one anyway');
  }
  return createApiKey(prisma, opts.name ?? 'bootstrap-admin', 'ADMIN');
}
