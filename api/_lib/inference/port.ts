// What the API needs from inference, so the GraphQL layer does not depend on where students run: in `ril serve`
// the InferenceService of the same process (./service.ts); in the GraphQL function, the inference functions over
// HTTP (./remote.ts), so that function never loads onnxruntime-node or sharp.

/** One turn of a conversation; the request's one image goes with it separately (InferRequest.image). */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  text: string;
}

export const CHAT_ROLES: readonly ChatMessage['role'][] = ['system', 'user', 'assistant'];

export interface InferRequest {
  deployment: string;
  image: Buffer;
  /** The question: a conversation of one user message. Give this or `messages`. */
  question?: string;
  /** The whole conversation (system messages, earlier turns, the user's last message); the student's tokenizer
   * makes the prompt of it (StudentTokenizer.encodeChat). */
  messages?: ChatMessage[];
  /** Stop sequences (1..4): generation ends when the text contains one; the answer excludes it (stop.ts). */
  stop?: string[];
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
  /** Prompt tokens the student read (its template applied to the conversation), image tokens not counted. */
  promptTokens: number;
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
