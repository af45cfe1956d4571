// The claim-and-complete loop of the queue benchmark, shared by the claimer processes (bench/queue-claimer.ts)
// and the one-process baseline (bench/queue.ts), so both measure exactly the same code.
import type { Database } from '../api/_lib/db/index.js';
import { claim, complete } from '../api/_lib/jobs/queue.js';

export const BENCH_KIND = 'EVALUATE' as const;
const LEASE_SECONDS = 60;
/** Errors (SQLITE_BUSY, a transaction timeout, ...) a claimer tolerates before it gives up: a real worker would
 * log and poll again, the benchmark counts them and keeps going, but never forever. */
const MAX_ERRORS = 50;

export interface ClaimerReport {
  worker: string;
  /** Ids in the order this worker got them from `claim`. */
  claimed: string[];
  /** Ids this worker completed (complete() returned without an error). */
  completed: string[];
  /** Milliseconds around each `claim` call that returned a job. */
  claimMs: number[];
  /** Milliseconds around each `complete` call. */
  completeMs: number[];
  /** SQL statements each successful claim sent, as Prisma counts them: 5 when the compare-and-set wins at once
   * (expired-lease scan, candidate SELECT, UPDATE + COMMIT, re-read); each lost race adds 3. */
  claimStatements: number[];
  /** `claim` returned null although QUEUED jobs were left (it gave up after 20 lost compare-and-sets). */
  emptyHanded: number;
  /** Error messages (first line) -> how often, from claim and complete. */
  errors: Record<string, number>;
  /** CPU time (user + system) this process spent in the loop: tells lock waits apart from CPU starvation. */
  cpuMs: number;
}

function note(errors: Record<string, number>, where: string, err: unknown) {
  const first = String((err as Error)?.message ?? err).split('\n').find((l) => l.trim()) ?? 'error';
  // ids (cuids) out, so the same error from different jobs counts as one kind
  const msg = `${where}: ${first.replace(/\bc[a-z0-9]{24}\b/g, '<id>')}`.slice(0, 200);
  errors[msg] = (errors[msg] ?? 0) + 1;
  if (Object.values(errors).reduce((a, b) => a + b, 0) > MAX_ERRORS) throw new Error(`claimer gave up after ${MAX_ERRORS} errors: ${JSON.stringify(errors)}`);
}

/** Opens the pool and compiles the queries before the start signal, so the first timed claim is not a connect. */
export async function warmUp(db: Database) {
  await db.prisma.job.findFirst({ where: { status: 'QUEUED', kind: BENCH_KIND }, select: { id: true } });
  await db.prisma.job.count({ where: { status: 'QUEUED', kind: BENCH_KIND } });
}

/** Claims and completes jobs until none is QUEUED. */
export async function claimAndCompleteAll(db: Database, worker: string): Promise<ClaimerReport> {
  const r: ClaimerReport = { worker, claimed: [], completed: [], claimMs: [], completeMs: [], claimStatements: [], emptyHanded: 0, errors: {}, cpuMs: 0 };
  const cpu0 = process.cpuUsage();
  for (;;) {
    const before = db.queryCount();
    const t0 = performance.now();
    let job;
    try {
      job = await claim(db, worker, [BENCH_KIND], LEASE_SECONDS);
    } catch (err) {
      note(r.errors, 'claim', err);
      continue;
    }
    const ms = performance.now() - t0;
    if (!job) {
      // null is "nothing claimable" or "lost 20 races in a row"; only an empty queue ends the loop
      if ((await db.prisma.job.count({ where: { status: 'QUEUED', kind: BENCH_KIND } })) === 0) break;
      r.emptyHanded += 1;
      continue;
    }
    r.claimMs.push(ms);
    r.claimStatements.push(db.queryCount() - before);
    r.claimed.push(job.id);
    for (let attempt = 0; ; attempt++) {
      const t1 = performance.now();
      try {
        await complete(db, job.id, worker, { by: worker });
        r.completeMs.push(performance.now() - t1);
        r.completed.push(job.id);
        break;
      } catch (err) {
        note(r.errors, 'complete', err);
        // CONFLICT means we no longer hold the lease: retrying cannot help, the tally shows the job
        if ((err as { extensions?: { code?: string } }).extensions?.code === 'CONFLICT' || attempt >= 4) break;
      }
    }
  }
  const cpu = process.cpuUsage(cpu0);
  r.cpuMs = (cpu.user + cpu.system) / 1000;
  return r;
}
