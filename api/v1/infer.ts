// POST /v1/infer (JSON; server-sent events with "stream": true) as a Vercel function.
import { inferFunction } from '../_lib/http/inferFunction.js';

export default inferFunction('v1/infer', (routes) => routes.infer);
