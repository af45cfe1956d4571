// The platform's Prometheus metrics (prom-client), one Registry per platform instance (never prom-client's global
// default registry: two servers in one process, as in the tests, must not share counters).
//
// Two kinds of figures:
//   - per process, counted as things happen: HTTP requests, inference, GraphQL root resolvers, lease expiries
//     (PlatformMetrics; `ril serve` only);
//   - from the database, read when scraped: queue depth by job kind and status, teacher fills in progress
//     (DatabaseMetrics; the same answer from every instance, so also served by the Vercel function api/metrics.ts).
//
// Label values are bounded names only: route templates (never a raw path, id or query string), HTTP methods from a
// fixed list, status codes, job kinds and statuses, root field names of the schema, deployment names (operator-chosen,
// checked against the deployments table before they are used as a label). Never a key, a question, a path a caller
// chose, or any other text a caller sent.
//
// The hot paths only call the synchronous observe methods below: no await; a map lookup of the label set's cell and a
// few additions (./instruments.ts; bench/metrics.ts measures it).
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Database } from '../db/index.js';
import { faultSummary } from '../errors.js';
import { FastCounter, FastHistogram, type CounterCell, type HistogramCell } from './instruments.js';
import type { LeaseExpiryOutcome, QueueEvents } from './queueEvents.js';

/** The route label of a request: one of these templates, anything else `other`. */
export const ROUTE_LABELS: ReadonlySet<string> = new Set([
  '/graphql', '/healthz', '/metrics', '/v1/infer', '/v1/chat/completions', '/v1/models', '/blobs/:sha256', 'static',
  '/api/cron/teacher-fill', '/api/cron/sweep-leases', 'other',
]);
const METHOD_LABELS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

/** What became of an inference request that reached a deployment's runtime. */
export type InferenceOutcome = 'ok' | 'cancelled' | 'rejected' | 'overloaded' | 'load_failed' | 'error';

/** What the inference service reports (api/_lib/inference/service.ts); optional there, so functions carry none. */
export interface InferenceMetrics {
  /** A request that generated: its time to first token (s), decode speed (tokens/s; null with one token or
   * fewer) and the batch size the runtime ran it in. */
  inferred(deployment: string, outcome: 'ok' | 'cancelled', ttftSeconds: number, tokensPerSecond: number | null, batchSize: number): void;
  /** A request for an existing deployment that ended without an answer (thrown, or aborted by its client). */
  inferenceFailed(deployment: string, outcome: Exclude<InferenceOutcome, 'ok'>): void;
}

/** Anything /metrics can serve. */
export interface MetricsSource {
  readonly contentType: string;
  /** The exposition text (reads the database-derived gauges first). */
  text(): Promise<string>;
}

export const JOB_KIND_LABELS = ['TRAIN', 'TEACHER_FILL', 'EVALUATE'] as const;
export const JOB_STATUS_LABELS = ['QUEUED', 'LEASED', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const TTFT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const TOKENS_PER_SECOND_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64];

/**
 * The gauges read from the database at scrape time: one groupBy for the queue, one read of the progress of the
 * teacher fills that are leased now. A database that does not answer leaves them empty and sets
 * ril_metrics_database_up to 0 (the scrape itself still succeeds, with the per-process figures).
 */
export class DatabaseMetrics implements MetricsSource {
  readonly registry: Registry;
  private readonly jobs: Gauge<'kind' | 'status'>;
  private readonly fill: Gauge<'state'>;
  private readonly up: Gauge;

  constructor(private readonly db: Database, registry = new Registry()) {
    this.registry = registry;
    this.jobs = new Gauge({
      name: 'ril_jobs', help: 'Jobs in the database by kind and status (read at scrape time)', labelNames: ['kind', 'status'], registers: [registry],
    });
    this.fill = new Gauge({
      name: 'ril_teacher_fill_requests',
      help: 'Teacher-cache requests of the TEACHER_FILL jobs leased now, summed: total asked for, filled, failed (read at scrape time)',
      labelNames: ['state'], registers: [registry],
    });
    this.up = new Gauge({ name: 'ril_metrics_database_up', help: '1 if the database answered the last scrape, else 0', registers: [registry] });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Reads the queue and the fills' progress into the gauges. Never throws. */
  async collect(): Promise<void> {
    try {
      const [groups, fills] = await Promise.all([
        this.db.prisma.job.groupBy({ by: ['kind', 'status'], _count: { _all: true } }),
        this.db.prisma.job.findMany({ where: { kind: 'TEACHER_FILL', status: 'LEASED' }, select: { result: true } }),
      ]);
      const counts = new Map(groups.map((g) => [`${g.kind} ${g.status}`, g._count._all]));
      // every (kind, status) pair, zeros included, so a series does not vanish when its count drops to 0; a kind or
      // status outside the known sets (a row written by a newer version) is left out rather than trusted as a label
      for (const kind of JOB_KIND_LABELS) for (const status of JOB_STATUS_LABELS) this.jobs.set({ kind, status }, counts.get(`${kind} ${status}`) ?? 0);
      const sum = { total: 0, filled: 0, failed: 0 };
      for (const f of fills) {
        const p = progressOf(f.result);
        if (!p) continue;
        sum.total += p.total;
        sum.filled += p.filled;
        sum.failed += p.failed;
      }
      for (const [state, v] of Object.entries(sum)) this.fill.set({ state }, v);
      this.up.set(1);
    } catch (err) {
      this.jobs.reset();
      this.fill.reset();
      this.up.set(0);
      console.error('[metrics] reading the database gauges failed:', faultSummary(err));
    }
  }

  async text(): Promise<string> {
    await this.collect();
    return this.registry.metrics();
  }
}

/** A fill job's `result.progress` ({ done, total, filled, failed }), or null. */
function progressOf(result: string | null): { total: number; filled: number; failed: number } | null {
  if (!result) return null;
  try {
    const p = (JSON.parse(result) as { progress?: Record<string, unknown> }).progress;
    if (!p) return null;
    const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
    return { total: n(p.total), filled: n(p.filled), failed: n(p.failed) };
  } catch {
    return null;
  }
}

let processRegistry: Registry | undefined;
/** prom-client's default process metrics (CPU, memory, event loop lag, GC, handles), once per process: they describe
 * the process, not a platform, so every platform of a process serves the same ones. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** Marks a resolver already wrapped by timeRootFields. */
const TIMED = Symbol('ril.metrics.timed');

interface HttpCells { count: CounterCell; duration: HistogramCell }
interface InferenceCells { ok: CounterCell; cancelled: CounterCell; ttft: HistogramCell; tps: HistogramCell; batch: HistogramCell }

/** Everything a `ril serve` process reports: its own counters and histograms, the database gauges, the process metrics. */
export class PlatformMetrics implements MetricsSource, InferenceMetrics, QueueEvents {
  readonly registry = new Registry();
  readonly database: DatabaseMetrics;
  // the hot-path families (./instruments.ts: an observation is a few additions on a cell made once per label set)
  private readonly httpTotal: FastCounter;
  private readonly httpDuration: FastHistogram;
  private readonly inferTotal: FastCounter;
  private readonly ttft: FastHistogram;
  private readonly tokensPerSecond: FastHistogram;
  private readonly batchSize: FastHistogram;
  private readonly resolverDuration: FastHistogram;
  private readonly leaseExpiries: Counter<'kind' | 'outcome'>;
  private readonly httpCells = new Map<string, Map<string, Map<number, HttpCells>>>();
  private readonly inferCells = new Map<string, InferenceCells>();

  constructor(db: Database) {
    const r = this.registry;
    this.database = new DatabaseMetrics(db, r);
    const http = ['route', 'method', 'status'];
    this.httpTotal = new FastCounter('ril_http_requests_total', 'HTTP requests by route template, method and status', http, r);
    this.httpDuration = new FastHistogram('ril_http_request_duration_seconds',
      'HTTP request duration (request in to response finished) by route template, method and status', http, DURATION_BUCKETS, r);
    this.inferTotal = new FastCounter('ril_inference_requests_total',
      'Inference requests that reached a deployment, by outcome (ok, cancelled, rejected, overloaded, load_failed, error)', ['deployment', 'outcome'], r);
    this.ttft = new FastHistogram('ril_inference_ttft_seconds',
      'Time to first token: request accepted by the service to first token chosen (queueing and preprocessing included)', ['deployment'], TTFT_BUCKETS, r);
    this.tokensPerSecond = new FastHistogram('ril_inference_tokens_per_second',
      'Decode speed of one request (tokens after the first / decode time; requests of 2+ tokens)', ['deployment'], TOKENS_PER_SECOND_BUCKETS, r);
    this.batchSize = new FastHistogram('ril_inference_batch_size',
      'Rows per session run a request took part in (prefill and decode steps), averaged over its runs: 1 unbatched', ['deployment'], BATCH_BUCKETS, r);
    this.resolverDuration = new FastHistogram('ril_graphql_resolver_duration_seconds',
      'Duration of GraphQL root field resolvers (Query.* and Mutation.*; nested fields not included)', ['field'], DURATION_BUCKETS, r);
    this.leaseExpiries = new Counter({
      name: 'ril_job_lease_expiries_total', help: 'Job leases that expired and were moved by this process (requeued, failed out of attempts, cancelled), by job kind',
      labelNames: ['kind', 'outcome'], registers: [r],
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async text(): Promise<string> {
    await this.database.collect();
    const [mine, proc] = await Promise.all([this.registry.metrics(), processMetrics().metrics()]);
    return `${mine}\n${proc}`;
  }

  // ---- HTTP (api/_lib/log.ts calls it when a response finishes) ------------------------------------------------

  /** One finished request: `route` is a template from routeOf (mapped to `other` unless known), `status` the code,
   * or `aborted` when the client went away before the response ended. */
  observeHttp(route: string, method: string | undefined, status: number, aborted: boolean, seconds: number): void {
    // route -> method -> status code: three lookups, no string built per request (0: aborted, 1: not a status code)
    const r = ROUTE_LABELS.has(route) ? route : 'other';
    const m = method !== undefined && METHOD_LABELS.has(method) ? method : 'other';
    const code = aborted ? 0 : status >= 100 && status <= 599 ? status : 1;
    let byMethod = this.httpCells.get(r);
    if (!byMethod) this.httpCells.set(r, byMethod = new Map());
    let byStatus = byMethod.get(m);
    if (!byStatus) byMethod.set(m, byStatus = new Map());
    let c = byStatus.get(code);
    if (!c) {
      const s = code === 0 ? 'aborted' : code === 1 ? 'other' : String(code);
      c = { count: this.httpTotal.labels(r, m, s), duration: this.httpDuration.labels(r, m, s) };
      byStatus.set(code, c);
    }
    c.count.inc();
    c.duration.observe(seconds);
  }

  // ---- inference (InferenceService) ------------------------------------------------------------------------------

  private inferenceCells(deployment: string): InferenceCells {
    let c = this.inferCells.get(deployment);
    if (!c) {
      c = {
        ok: this.inferTotal.labels(deployment, 'ok'), cancelled: this.inferTotal.labels(deployment, 'cancelled'),
        ttft: this.ttft.labels(deployment), tps: this.tokensPerSecond.labels(deployment), batch: this.batchSize.labels(deployment),
      };
      this.inferCells.set(deployment, c);
    }
    return c;
  }

  inferred(deployment: string, outcome: 'ok' | 'cancelled', ttftSeconds: number, tokensPerSecond: number | null, batchSize: number): void {
    const c = this.inferenceCells(deployment);
    c[outcome].inc();
    c.ttft.observe(ttftSeconds);
    if (tokensPerSecond !== null) c.tps.observe(tokensPerSecond);
    c.batch.observe(batchSize);
  }

  inferenceFailed(deployment: string, outcome: Exclude<InferenceOutcome, 'ok'>): void {
    this.inferTotal.labels(deployment, outcome).inc();
  }

  // ---- the queue (api/_lib/jobs/queue.ts through observeQueue) ---------------------------------------------------

  leaseExpired(kind: string, outcome: LeaseExpiryOutcome): void {
    this.leaseExpiries.labels((JOB_KIND_LABELS as readonly string[]).includes(kind) ? kind : 'other', outcome).inc();
  }

  // ---- GraphQL ---------------------------------------------------------------------------------------------------

  /**
   * An Apollo plugin timing the root fields: when the server starts it wraps each Query and Mutation resolver once
   * (label `Query.datasets`, bounded by the schema). Nested fields are not wrapped, so unlike `willResolveField`
   * (which Apollo calls for every field of every response) a query with 10,000 fields costs two clock reads.
   */
  graphqlPlugin<T extends BaseContext>(): ApolloServerPlugin<T> {
    return {
      serverWillStart: async ({ schema }) => { this.timeRootFields(schema); },
    };
  }

  private timeRootFields(schema: GraphQLSchema) {
    for (const root of [schema.getQueryType(), schema.getMutationType()]) {
      for (const field of Object.values(root?.getFields() ?? {})) {
        if ((field as { [TIMED]?: true })[TIMED]) continue;
        const inner: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
        const name = `${root!.name}.${field.name}`;
        let cell: HistogramCell | undefined;
        const observe = (started: number) => {
          (cell ??= this.resolverDuration.labels(name)).observe((performance.now() - started) / 1000);
        };
        field.resolve = (source, args, context, info) => {
          const started = performance.now();
          let result: unknown;
          try {
            result = inner(source, args, context, info);
          } catch (err) {
            observe(started);
            throw err;
          }
          if (result && typeof (result as Promise<unknown>).then === 'function') {
            const done = () => observe(started);
            (result as Promise<unknown>).then(done, done);
          } else observe(started);
          return result;
        };
        Object.defineProperty(field, TIMED, { value: true });
      }
    }
  }
}
