// API keys and roles. A key is `ril_<43 chars of base64url>` (256 random bits); only its sha256 is stored.
// A fast hash is right here: the secret is high-entropy random, not a password, so it cannot be brute-forced,
// and lookups by hash stay one indexed query per request.
import crypto from 'node:crypto';
import type { PrismaClient } from '../db/index.js';
import { badInput, forbidden, unauthenticated } from '../errors.js';
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

/** Resolves `Authorization: Bearer <key>` (or a bare key) to a principal; null when absent. */
export async function authenticate(prisma: PrismaClient, header: string | undefined | null): Promise<Principal | null> {
  if (!header) return null;
  const secret = header.replace(/^Bearer\s+/i, '').trim();
  if (!secret) return null;
  const key = await prisma.apiKey.findUnique({ where: { hash: hashSecret(secret) } });
  if (!key || key.revokedAt || !isRole(key.role)) {
    noteCaller('invalid');
    throw unauthenticated('invalid or revoked API key');
  }
  noteCaller(key.role);
  return { keyId: key.id, name: key.name, role: key.role };
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

/** Creates the first admin key if the database has none; returns its secret (to print once) or null. */
export async function ensureBootstrapAdmin(prisma: PrismaClient): Promise<string | null> {
  const existing = await prisma.apiKey.count({ where: { role: 'ADMIN', revokedAt: null } });
  if (existing > 0) return null;
  return (await createApiKey(prisma, 'bootstrap-admin', 'ADMIN')).secret;
}
