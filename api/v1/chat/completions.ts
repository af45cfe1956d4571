// POST /v1/chat/completions (the OpenAI-compatible subset) as a Vercel function.
import { inferFunction } from '../../_lib/http/inferFunction.js';

export default inferFunction('v1/chat/completions', (routes) => routes.chat);
