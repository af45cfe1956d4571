// The per-request context: the database, the blob store, the caller and fresh DataLoaders.
import type { Loaders } from './loaders.js';
import type { Services } from '../services.js';
import type { Principal } from '../auth/keys.js';
import type { DeploymentService } from '../deployments/service.js';
import type { InferencePort } from '../inference/port.js';

export type { Services };

export interface Context extends Services {
  inference: InferencePort;
  deployments: DeploymentService;
  /** The caller's Authorization header, forwarded when inference runs in another process. */
  authorization?: string;
  principal: Principal | null;
  /** The per-key inference rate limit of this process's /v1/* routes, applied to Query.infer too (unset where
   * Query.infer is forwarded to /v1/infer, which applies it there). */
  limitInference?: (principal: Principal) => Promise<void>;
  /** Aborted when the client's connection closes before its answer is sent: work done only for this caller (an
   * inference) stops with it. */
  signal?: AbortSignal;
  loaders: Loaders;
}
