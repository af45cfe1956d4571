// Authorisation, failing closed: every Query and Mutation field must be listed here with the roles that may
// call it, or the schema refuses to build (see buildSchema in api/schema.ts). ADMIN passes every check.
// Access is checked before a resolver runs, so an unauthorised caller never learns whether an id exists.
import type { Role } from './services/auth.js';

export const ANY_KEY: readonly Role[] = ['ADMIN', 'EDITOR', 'VIEWER', 'WORKER', 'INFERENCE'];
const READ: readonly Role[] = ['EDITOR', 'VIEWER', 'WORKER'];
const WRITE: readonly Role[] = ['EDITOR'];
const ADMIN_ONLY: readonly Role[] = [];

export const ACCESS: Record<string, readonly Role[]> = {
  'Query.me': ANY_KEY,
  'Query.datasets': READ,
  'Query.dataset': READ,
  'Query.example': READ,
  'Query.teachers': READ,
  'Query.teacher': READ,
  'Query.apiKeys': ADMIN_ONLY,
  'Mutation.importDataset': WRITE,
  'Mutation.registerTeacher': WRITE,
  'Mutation.importTeacherResponses': WRITE,
  'Mutation.fillTeacherCache': WRITE,
  'Mutation.createApiKey': ADMIN_ONLY,
  'Mutation.revokeApiKey': ADMIN_ONLY,
};
