// The inference port of a process that runs no students (the GraphQL function): `infer` is forwarded to the
// deployment's POST /v1/infer function with the caller's own key, so the same access policy, rate limit and
// loaded sessions apply; what a deployment "looks like" comes from the database row, since latency and loaded
// sessions belong to each inference instance.
import { AppError, badInput } from '../errors.js';
import { ServiceUnavailableError } from './admission.js';
import type { DeploymentObservation, InferencePort, InferRequest, InferResult, LatencySnapshot } from './port.js';

const NO_LATENCY: LatencySnapshot = { requests: 0, p50Ms: null, p95Ms: null, ttftP50Ms: null, decodeTokensPerSecond: null };

const retryAfterOf = (res: Response): { retryAfter?: number } => {
  const seconds = Number(res.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? { retryAfter: seconds } : {};
};

export class RemoteInference implements InferencePort {
  /** `baseUrl`: where POST /v1/infer answers (RIL_PUBLIC_URL; on Vercel, https://$VERCEL_URL). */
  constructor(private readonly baseUrl: string | undefined) {}

  async infer(req: InferRequest, caller: { authorization?: string } = {}): Promise<InferResult> {
    if (!this.baseUrl) throw new Error('Query.infer needs RIL_PUBLIC_URL (the deployment URL whose /v1/infer serves students) in functions mode');
    const res = await fetch(new URL('/v1/infer', this.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(caller.authorization ? { authorization: caller.authorization } : {}) },
      body: JSON.stringify({
        deployment: req.deployment, question: req.question, messages: req.messages, stop: req.stop?.length ? req.stop : undefined,
        image: req.image.toString('base64'), max_tokens: req.maxTokens ?? undefined,
        temperature: req.temperature ?? undefined, top_p: req.topP ?? undefined, top_k: req.topK ?? undefined,
        repetition_penalty: req.repetitionPenalty ?? undefined, seed: req.seed ?? undefined,
      }),
      signal: req.signal,
    });
    const body = await res.json().catch(() => null) as Record<string, any> | null;
    if (!res.ok || !body) {
      const code = body?.error?.code;
      // The inference function's 4xx carry our codes and safe messages; anything else stays an internal error.
      if (res.status < 500 && typeof code === 'string') {
        throw Object.assign(new AppError(code as never, String(body?.error?.message ?? 'inference failed')), retryAfterOf(res));
      }
      // the inference function's admission gate is full: the caller gets the same 503 and Retry-After
      if (res.status === 503 && code === 'SERVICE_UNAVAILABLE') {
        throw new ServiceUnavailableError(String(body?.error?.message ?? 'inference is at capacity'), retryAfterOf(res).retryAfter ?? 1);
      }
      throw new Error(`POST /v1/infer answered ${res.status}`);
    }
    if (typeof body.answer !== 'string') throw badInput('unexpected /v1/infer answer');
    return {
      deployment: body.deployment, revision: body.revision, answer: body.answer, tokenIds: body.token_ids, tokens: body.tokens, promptTokens: body.prompt_tokens,
      finishReason: body.finish_reason,
      timings: { preprocessMs: body.timings.preprocess_ms, ttftMs: body.timings.ttft_ms, decodeTokensPerSecond: body.timings.decode_tokens_per_s, totalMs: body.timings.total_ms },
    };
  }

  observed(dep: { liveRevisionId: string | null }): DeploymentObservation {
    return { status: dep.liveRevisionId ? 'LIVE' : 'EMPTY', error: null };
  }

  async latency(): Promise<LatencySnapshot> {
    return NO_LATENCY;
  }
}
