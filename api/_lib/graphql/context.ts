// The per-request context: the database, the blob store, the caller and fresh DataLoaders.
import type { Loaders } from './loaders.js';
import type { Services } from '../services.js';
import type { Principal } from '../auth/keys.js';
import type { InferenceService } from '../deployments/service.js';

export type { Services };

export interface Context extends Services {
  inference: InferenceService;
  principal: Principal | null;
  loaders: Loaders;
}
