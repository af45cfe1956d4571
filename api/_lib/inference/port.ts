// What the API needs from inference, so the GraphQL layer does not depend on where students run: in `ril serve`
// the InferenceService of the same process (./service.ts); in the GraphQL function, the inference functions over
// HTTP (./remote.ts), so that function never loads onnxruntime-node or sharp.

export interface InferRequest {
  deployment: string;
  image: Buffer;
  question: string;
  maxTokens?: number | null;
  /** 0 = greedy (default). */
  temperature?: number | null;
  topP?: number | null;
  topK?: number | null;
  repetitionPenalty?: number | null;
  seed?: number | null;
  onToken?: (id: number, text: string) => void;
  signal?: AbortSignal;
}

export interface InferResult {
  deployment: string;
  revision: number;
  answer: string;
  tokenIds: number[];
  /** Generated tokens, the final <eos> included when the answer ended with one. */
  tokens: number;
  finishReason: 'stop' | 'length' | 'cancelled';
  timings: { preprocessMs: number; ttftMs: number; decodeTokensPerSecond: number | null; totalMs: number };
}

export interface DeploymentObservation { status: 'LIVE' | 'STANDBY' | 'FAILED' | 'EMPTY'; error: string | null }

export interface LatencySnapshot {
  requests: number;
  p50Ms: number | null;
  p95Ms: number | null;
  ttftP50Ms: number | null;
  decodeTokensPerSecond: number | null;
}

export interface InferencePort {
  /** `authorization` is the caller's own header, forwarded when inference runs in another process. */
  infer(req: InferRequest, caller?: { authorization?: string }): Promise<InferResult>;
  observed(dep: { name: string; liveRevisionId: string | null }): DeploymentObservation;
  latency(name: string): Promise<LatencySnapshot>;
}
