// GET /v1/models (the live deployments, in the OpenAI list format) as a Vercel function.
import { inferFunction } from '../_lib/http/inferFunction.js';

export default inferFunction('v1/models', (routes) => routes.models);
