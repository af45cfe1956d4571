// Next-token choice, mirroring ril_trainer/sampling.py's order: repetition penalty (prompt text tokens and
// generated text tokens; specials excluded) -> greedy argmax, or temperature -> top-k -> top-p -> sample.
// Greedy is the exact argmax of the float32 logits (first index on ties, like torch.argmax), so greedy
// answers equal the trainer's token for token. Sampling uses a seeded RNG of our own (the same
// distribution as the trainer's torch.multinomial, not the same random stream).
export interface SamplingParams {
  /** 0 = greedy. */
  temperature: number;
  /** 1 = off. */
  topP: number;
  /** 0 = off. */
  topK: number;
  /** 1 = off (the trainer's rollout default is 1.05; serving defaults to 1). */
  repetitionPenalty: number;
  seed?: number;
}

/** splitmix32-seeded xorshift128+-style generator: uniform doubles in [0, 1). */
export function seededRandom(seed: number): () => number {
  let s = (seed >>> 0) || 0x9e3779b9;
  const next32 = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  return () => (next32() * 2 ** 21 + (next32() >>> 11)) / 2 ** 53;
}

export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

export class Sampler {
  private readonly seen: Uint8Array;
  private readonly random: () => number;

  constructor(readonly params: SamplingParams, vocabSize: number, promptIds: readonly number[], private readonly isText: (id: number) => boolean) {
    this.seen = new Uint8Array(vocabSize);
    for (const id of promptIds) if (isText(id)) this.seen[id] = 1;
    this.random = seededRandom(params.seed ?? (Math.random() * 2 ** 32) >>> 0);
  }

  get greedy() { return this.params.temperature <= 0; }

  /** Chooses the next id from raw logits (not modified). */
  next(raw: Float32Array): number {
    const p = this.params;
    let logits: Float32Array | Float64Array = raw;
    if (p.repetitionPenalty !== 1) {
      const out = Float32Array.from(raw);
      const rp = Math.fround(p.repetitionPenalty); // torch applies a Python float to a float32 tensor in float32
      for (let i = 0; i < out.length; i++) {
        if (this.seen[i]) out[i] = out[i] > 0 ? Math.fround(out[i] / rp) : Math.fround(out[i] * rp);
      }
      logits = out;
    }
    const id = this.greedy ? argmax(logits) : this.sample(logits);
    if (this.isText(id)) this.seen[id] = 1;
    return id;
  }

  private sample(logits: ArrayLike<number>): number {
    const p = this.params;
    const V = logits.length;
    const x = new Float64Array(V);
    const t = Math.max(p.temperature, 1e-6);
    for (let i = 0; i < V; i++) x[i] = logits[i] / t;
    if (p.topK > 0 && p.topK < V) {
      const kth = Float64Array.from(x).sort()[V - p.topK];
      for (let i = 0; i < V; i++) if (x[i] < kth) x[i] = -Infinity;
    }
    const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => x[b] - x[a]);
    const max = x[order[0]];
    const probs = new Float64Array(V);
    let total = 0;
    for (let i = 0; i < V; i++) total += probs[i] = x[i] === -Infinity ? 0 : Math.exp(x[i] - max);
    if (p.topP < 1) {
      let before = 0; // mass of the strictly more likely tokens; the most likely token is always kept
      for (const i of order) {
        const pi = probs[i] / total;
        if (before >= p.topP) probs[i] = 0;
        before += pi;
      }
      total = probs.reduce((a, b) => a + b, 0);
    }
    let u = this.random() * total;
    for (const i of order) {
      u -= probs[i];
      if (u < 0 && probs[i] > 0) return i;
    }
    return order.find((i) => probs[i] > 0) ?? order[0];
  }
}
