// One error policy, in one place. Expected failures are GraphQLErrors with extensions.code; known Prisma
// errors are translated at the boundary; everything else is masked by formatError (Apollo Server 5 does
// not mask by default) and logged once on the server.
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

export type ErrorCode = 'BAD_USER_INPUT' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT';

export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message, { extensions: { code, ...(details ?? {}) } });
  }
}

export const badInput = (message: string, details?: Record<string, unknown>) => new AppError('BAD_USER_INPUT', message, details);
export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
export const conflict = (message: string) => new AppError('CONFLICT', message);
export const forbidden = (message = 'not allowed for this key') => new AppError('FORBIDDEN', message);
export const unauthenticated = (message = 'an API key is required (Authorization: Bearer <key>)') =>
  new AppError('UNAUTHENTICATED', message);

/** HTTP status for an error code, for the non-GraphQL routes. */
export function httpStatus(code: string | undefined): number {
  switch (code) {
    case 'BAD_USER_INPUT': return 400;
    case 'UNAUTHENTICATED': return 401;
    case 'FORBIDDEN': return 403;
    case 'NOT_FOUND': return 404;
    case 'CONFLICT': return 409;
    case 'LENGTH_REQUIRED': return 411;
    case 'PAYLOAD_TOO_LARGE': return 413;
    case 'TOO_MANY_REQUESTS': return 429;
    case 'SERVICE_UNAVAILABLE': return 503;
    default: return 500;
  }
}

/** Whether `err` is the database failing (unreachable, connection lost, pool exhausted), not a bad request. Such
 * an error says nothing about the caller's input, and its text names hosts and ports: 503, generic message. */
export function isDatabaseFault(err: unknown): boolean {
  const e = err as { name?: string; code?: unknown; cause?: unknown; errorCode?: unknown };
  if (!e || typeof e !== 'object') return false;
  if (e.name === 'PrismaClientInitializationError' || e.name === 'PrismaClientRustPanicError') return true;
  // P1001 can't reach, P1002 timed out, P1008 operation timed out, P1017 server closed the connection, P2024 pool timeout
  if (typeof e.code === 'string' && ['P1001', 'P1002', 'P1008', 'P1017', 'P2024'].includes(e.code)) return true;
  // driver adapters: the socket's own errors
  if (typeof e.code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03', '08006', '08001'].includes(e.code)) return true;
  return e.cause !== undefined && e.cause !== err && isDatabaseFault(e.cause);
}

/** A database error in one log line: the driver's last line ("Can't reach database server at host:port"), without
 * the source excerpt Prisma prepends. For the server's log only; clients get databaseUnavailable's text. */
export function faultSummary(err: unknown): string {
  const lines = String((err as Error)?.message ?? err).split('\n').map((l) => l.trim()).filter((l) => l && !/^\d+\s|^→/.test(l));
  return `${(err as { code?: string })?.code ? `${(err as { code: string }).code} ` : ''}${lines.at(-1) ?? 'unknown error'}`.slice(0, 300);
}

/** Prisma known request errors by code -> our codes. Unique violation and missing record are the usual. */
export function translatePrismaError(err: unknown): AppError | undefined {
  const code = (err as { code?: unknown })?.code;
  if (code === 'P2002') return conflict('a record with the same unique key already exists');
  if (code === 'P2025') return notFound('record');
  if (code === 'P2003') return badInput('a referenced record does not exist');
  return undefined;
}

// TOO_MANY_REQUESTS and SERVICE_UNAVAILABLE: the inference limits (a key's rate, the process's admission gate);
// their messages are ours and say when to retry.
const EXPECTED = new Set(['BAD_USER_INPUT', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'TOO_MANY_REQUESTS', 'SERVICE_UNAVAILABLE',
  'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'OPERATION_RESOLUTION_FAILURE']);

export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const code = formatted.extensions?.code as string | undefined;
  if (code && EXPECTED.has(code)) {
    const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  const original = (error as { originalError?: unknown })?.originalError ?? error;
  if (isDatabaseFault(original)) {
    // the database went away after the caller was authenticated: the same answer as at authentication, no internals
    console.error('[graphql] database unavailable:', faultSummary(original));
    return { message: 'the service is temporarily unavailable; retry shortly', path: formatted.path, extensions: { code: 'SERVICE_UNAVAILABLE' } };
  }
  const translated = translatePrismaError(original);
  if (translated) return { message: translated.message, path: formatted.path, extensions: translated.extensions };
  // the work was stopped because its caller closed the connection (Context.signal): nobody reads this answer, and
  // a log line per hang-up would be one any key holder could cause
  if ((original as Error)?.name === 'AbortError') return { message: 'cancelled: the client closed its connection', path: formatted.path, extensions: { code: 'CLIENT_CLOSED_REQUEST' } };
  console.error('[graphql] internal error:', original instanceof Error ? original.stack ?? original.message : original);
  return { message: 'internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
