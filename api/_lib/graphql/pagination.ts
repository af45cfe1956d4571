// Opaque cursors: base64url of a small JSON value. A cursor that does not decode is BAD_USER_INPUT.
import { badInput } from '../errors.js';

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

/** A Relay-style connection from `take + 1` fetched rows: the extra row only says there is a next page. */
export function toConnection<T>(rows: T[], take: number, cursorValue: (row: T) => unknown, totalCount: number) {
  const page = rows.slice(0, take);
  return {
    edges: page.map((node) => ({ cursor: encodeCursor(cursorValue(node)), node })),
    pageInfo: { hasNextPage: rows.length > take, endCursor: page.length ? encodeCursor(cursorValue(page[page.length - 1])) : null },
    totalCount,
  };
}

/** Prisma arguments for an id-cursor page: `take + 1` rows after `cursor` (exclusive). */
export const idPage = (take: number, cursor: string | undefined) => ({ take: take + 1, ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}) });

/** The check of an id cursor's value. */
export const isId = (v: unknown): v is string => typeof v === 'string';
