// Which environment variables may be sent to an endpoint as its key. A teacher's `apiKeyEnv` (and a training
// config's `judge_api_key_env`) names a variable of the process that makes the call, and its value is sent as a
// bearer token to a URL the caller chose: without a list, naming DATABASE_URL or RIL_API_KEY would ship that
// secret to the caller's server. So only the names the operator lists in RIL_SECRET_ENV_ALLOWLIST qualify, and
// the list is empty by default.
import type { Env } from '../env.js';
import { badInput } from '../errors.js';

export const ENV_NAME_RE = /^[A-Z_][A-Z0-9_]*$/;

export type SecretSettings = Pick<Env, 'RIL_SECRET_ENV_ALLOWLIST'>;

/** Throws BAD_USER_INPUT unless `name` is an allowlisted variable name. The message names the setting, never a value. */
export function checkSecretEnvName(field: string, name: string, env: SecretSettings): void {
  if (!ENV_NAME_RE.test(name)) {
    throw badInput(`${field} is the NAME of an environment variable (e.g. OPENAI_API_KEY), not the key`);
  }
  if (!env.RIL_SECRET_ENV_ALLOWLIST.includes(name)) {
    throw badInput(`${field} ${name} is not one of the variables the operator allows as endpoint keys (RIL_SECRET_ENV_ALLOWLIST)`);
  }
}
