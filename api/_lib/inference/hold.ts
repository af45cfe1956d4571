// The life of a loaded runtime (either family): requests hold it while they use it, a switch or an eviction retires
// it, and its sessions are released once the last holder lets go. One definition for StudentRuntime (built-in
// bundles) and HfRuntime (Hugging Face bundles), so the service's LRU and revision switching treat both alike.
export abstract class RuntimeHold {
  /** Requests holding this runtime: counted from the moment a request resolves it (see `use`), not only while
   * it generates, so a switch that retires the runtime never releases it under a request still preprocessing. */
  private inFlight = 0;
  /** Requests holding the runtime through `use` (the built-in batcher's idle start waits for them to arrive). */
  protected users = 0;
  private retired = false;
  private released = false;
  /** When a request last took this runtime (the LRU order of loaded runtimes). */
  lastUsedAt = performance.now();

  /** Requests holding the runtime now. */
  get busy(): number {
    return this.inFlight;
  }

  /** Whether it was retired (it takes no new requests; its sessions go once the last one ends). */
  get isRetired(): boolean {
    return this.retired;
  }

  /** Whether its sessions were released. */
  get isReleased(): boolean {
    return this.released;
  }

  /** Holds the runtime for one request: its sessions stay until the returned release is called (once; later
   * calls do nothing). Null when the runtime was already retired: the caller resolves again. */
  use(): (() => void) | null {
    if (this.retired) return null;
    this.inFlight += 1;
    this.users += 1;
    this.lastUsedAt = performance.now();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.users -= 1;
      this.unhold();
    };
  }

  /** Held for the length of one generation (a caller may generate without `use`, e.g. a warm-up or a tool). */
  protected hold(): void {
    this.inFlight += 1;
  }

  protected unhold(): void {
    this.inFlight -= 1;
    if (this.retired && this.inFlight === 0) void this.release();
  }

  /** No new requests will come: release the sessions once the in-flight ones finish. */
  retire(): void {
    this.retired = true;
    if (this.inFlight === 0) void this.release();
  }

  /** Never rejects: it runs detached (from unhold/retire), where a rejection would be unhandled and end the process
   * with every request in flight. A session that fails to release is logged; its memory is the runtime's loss. */
  private async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    try {
      await this.releaseSessions();
    } catch (err) {
      console.error('[inference] releasing a retired runtime failed:', (err as Error).message);
    }
  }

  protected abstract releaseSessions(): Promise<void>;
}
