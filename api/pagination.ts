// Opaque cursors: base64url of a small JSON value. A cursor that does not decode is BAD_USER_INPUT.
import { badInput } from './errors.js';

export const encodeCursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function decodeCursor<T>(cursor: string | null | undefined, check: (v: unknown) => v is T): T | undefined {
  if (cursor == null) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (check(value)) return value;
  } catch { /* fall through */ }
  throw badInput('invalid cursor');
}

export function pageSize(first: number | null | undefined, max = 200): number {
  const n = first ?? 20;
  if (!Number.isInteger(n) || n < 0 || n > max) throw badInput(`first must be between 0 and ${max}`);
  return n;
}
