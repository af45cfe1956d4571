// The admission gate of a process's inference: at most `concurrency` requests preprocess and generate at once,
// at most `queue` more wait for a turn (first come, first served), and any beyond that are refused at once with
// SERVICE_UNAVAILABLE (HTTP 503) and a Retry-After, instead of piling up until the process runs out of memory.
// One gate per InferenceService, i.e. per process, shared by every inference path (/v1/infer,
// /v1/chat/completions, Query.infer); the per-key rate limit (429) is a separate, earlier check.
import { AppError } from '../errors.js';

/** 503 with the seconds a client should wait before retrying. */
export class ServiceUnavailableError extends AppError {
  constructor(message: string, readonly retryAfter: number) {
    super('SERVICE_UNAVAILABLE' as never, message, { retryAfter, http: { status: 503, headers: new Map([['retry-after', String(retryAfter)]]) } });
  }
}

export class AdmissionGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly concurrency: number, readonly queueLimit: number, private readonly retryAfterSeconds = 1) {}

  /** Requests running now and waiting now. */
  get load() {
    return { active: this.active, queued: this.waiting.length };
  }

  /** Waits for a turn and returns its release (call it once, when the request is done). Refuses at once when the
   * queue is full; a request whose `signal` aborts while queued leaves the queue. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.active < this.concurrency && this.waiting.length === 0) {
      this.active += 1;
      return this.releaser();
    }
    if (this.waiting.length >= this.queueLimit) {
      throw new ServiceUnavailableError(
        `inference is at capacity (${this.concurrency} running, ${this.waiting.length} waiting); retry in ${this.retryAfterSeconds} s`, this.retryAfterSeconds);
    }
    await new Promise<void>((resolve, reject) => {
      const turn = () => { signal?.removeEventListener('abort', onAbort); resolve(); };
      const onAbort = () => {
        const i = this.waiting.indexOf(turn);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal!.reason ?? new Error('aborted'));
      };
      if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(turn);
    });
    return this.releaser(); // the slot was handed over by the releasing request (active unchanged)
  }

  private releaser() {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (next) next(); // hand the slot straight to the next in line
      else this.active -= 1;
    };
  }
}
