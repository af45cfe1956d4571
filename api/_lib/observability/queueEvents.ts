// What the job queue tells an observer about itself: lease expiries, counted where `requeueExpired` moves them. The
// queue takes a Database, not a platform, and is called from many places (claims over GraphQL, the in-process
// teacher-fill drain, the sweep cron), so the observer is attached to the Database object the platform opened:
// whatever code runs the queue on that database is counted by that platform's registry, and a database opened
// elsewhere (a CLI command, another test's server) is not. No dependencies: the queue stays free of prom-client.

/** What requeueExpired did with one expired lease. */
export type LeaseExpiryOutcome = 'requeued' | 'failed' | 'cancelled';

export interface QueueEvents {
  /** One lease of a job of `kind` expired and requeueExpired moved the job (requeued, failed out of attempts, cancelled). */
  leaseExpired(kind: string, outcome: LeaseExpiryOutcome): void;
}

const observers = new WeakMap<object, QueueEvents>();

/** Counts the queue events of every caller of `db` into `events` (one observer per database). */
export function observeQueue(db: object, events: QueueEvents): void {
  observers.set(db, events);
}

/** The observer of `db`, if a platform attached one. */
export function queueEventsOf(db: object): QueueEvents | undefined {
  return observers.get(db);
}
