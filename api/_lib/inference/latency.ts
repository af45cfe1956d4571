// Request timings of one loaded runtime: the sliding window behind `deployment { latency { ... } }` (either family).
/** A sliding window of request timings for `latency { p50Ms p95Ms requests }`. */
export class LatencyWindow {
  private readonly samples: number[] = [];
  private readonly ttft: number[] = [];
  private next = 0;
  requests = 0;
  tokens = 0;
  decodeMs = 0;
  constructor(private readonly size = 1024) {}

  record(totalMs: number, ttftMs: number, tokens: number, decodeMs: number) {
    if (this.samples.length < this.size) {
      this.samples.push(totalMs);
      this.ttft.push(ttftMs);
    } else {
      this.samples[this.next] = totalMs;
      this.ttft[this.next] = ttftMs;
      this.next = (this.next + 1) % this.size;
    }
    this.requests += 1;
    this.tokens += tokens;
    this.decodeMs += decodeMs;
  }

  snapshot() {
    const q = (xs: number[], p: number) => {
      if (!xs.length) return null;
      const s = [...xs].sort((a, b) => a - b);
      return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
    };
    return {
      requests: this.requests, p50Ms: q(this.samples, 0.5), p95Ms: q(this.samples, 0.95), ttftP50Ms: q(this.ttft, 0.5),
      decodeTokensPerSecond: this.decodeMs > 0 ? (this.tokens - this.requests) / (this.decodeMs / 1000) : null,
    };
  }
}
