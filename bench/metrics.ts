// What the metrics cost a request (issue 15: "a request with metrics costs no more than a few microseconds extra").
//   node --import tsx bench/metrics.ts            (BENCH_N: iterations per run, default 50000; BENCH_ROUNDS: runs, default 9)
//
// Measures, in this process, with no database and no sockets, the exact code the instrumentation adds:
//   1. withRequestLog (api/_lib/log.ts) with request logs off (RIL_LOG_REQUESTS=0), without and with the HTTP
//      observer: the difference is everything metrics add to a request in that mode (the two listeners, the URL
//      parse, the route template, the counter and histogram);
//   2. the same with request logs on (the default), where the listeners and the URL parse were already paid:
//      the difference is the counter and histogram;
//   3. PlatformMetrics.observeHttp alone, and InferenceService's one call per answered inference request
//      (`inferred`: a counter and three histograms);
//   4. a GraphQL root resolver called bare and through the timing wrapper the plugin installs.
// Each variant pair runs interleaved; the fastest run of each counts (ns per request). A loaded machine inflates all.
import { EventEmitter } from 'node:events';
import type http from 'node:http';
import { Writable } from 'node:stream';
import { buildSchema } from 'graphql';
import { createLogger, routeOf, withRequestLog, type RequestLogOptions } from '../api/_lib/log.js';
import { PlatformMetrics } from '../api/_lib/observability/metrics.js';
import type { Database } from '../api/_lib/db/index.js';

const N = Number(process.env.BENCH_N ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const metrics = new PlatformMetrics({} as Database); // observe paths never touch the database

/** A request/response pair as much as withRequestLog uses of them. */
function fakeExchange() {
  const req = { url: '/v1/infer?x=1', method: 'POST', headers: {} } as unknown as http.IncomingMessage;
  const res = Object.assign(new EventEmitter(), { headersSent: false, statusCode: 200, writableEnded: true, setHeader() {} }) as unknown as http.ServerResponse;
  return { req, res };
}

/** ns per iteration of `run`, the fastest of ROUNDS runs of N (the least disturbed by other processes). */
async function nsPerOp(run: (n: number) => Promise<void> | void): Promise<number> {
  return (await compare([run]))[0];
}

/** Runs the variants interleaved (A B A B ...) ROUNDS times and keeps each one's fastest run: on a shared machine the
 * minimum is the estimate least disturbed by other processes, and interleaving exposes both to the same load. */
async function compare(runs: ((n: number) => Promise<void> | void)[]): Promise<number[]> {
  for (const run of runs) await run(Math.min(N, 20_000)); // warm-up (JIT)
  const best = runs.map(() => Infinity);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, run] of runs.entries()) {
      const t0 = process.hrtime.bigint();
      await run(N);
      best[i] = Math.min(best[i], Number(process.hrtime.bigint() - t0) / N);
    }
  }
  return best;
}

const handle = async () => {};
const requests = (opts: RequestLogOptions) => async (n: number) => {
  for (let i = 0; i < n; i++) {
    const { req, res } = fakeExchange();
    // as the router calls it: the URL it parsed for routing is handed over
    await withRequestLog(req, res, opts, handle, new URL(req.url!, 'http://localhost'));
    res.emit('finish');
    res.emit('close');
  }
};
const observe: RequestLogOptions['observe'] = (route, method, status, aborted, seconds) => metrics.observeHttp(route, method, status, aborted, seconds);
const devNull = createLogger(new Writable({ write(_c, _e, cb) { cb(); } }) as never);

const rows: [string, number][] = [];
const [logsOff, logsOffMetrics] = await compare([requests({ enabled: false, route: routeOf }), requests({ enabled: false, route: routeOf, observe })]);
const [logsOn, logsOnMetrics] = await compare([requests({ enabled: true, route: routeOf, log: devNull }), requests({ enabled: true, route: routeOf, log: devNull, observe })]);
rows.push(['request, logs off, no metrics', logsOff], ['request, logs off, metrics', logsOffMetrics], ['  = metrics add (logs off)', logsOffMetrics - logsOff]);
rows.push(['request, logs on, no metrics', logsOn], ['request, logs on, metrics', logsOnMetrics], ['  = metrics add (logs on, the default)', logsOnMetrics - logsOn]);
rows.push(['observeHttp alone', await nsPerOp((n) => { for (let i = 0; i < n; i++) metrics.observeHttp('/v1/infer', 'POST', 200, false, 0.0123); })]);
rows.push(['inferred (one inference request)', await nsPerOp((n) => { for (let i = 0; i < n; i++) metrics.inferred('fm', 'ok', 0.0042, 180.5, 1); })]);

// a root resolver as graphql-js calls it (an async one, as ours are), bare and wrapped by the plugin
const schema = buildSchema('type Query { me: String }');
const me = schema.getQueryType()!.getFields().me;
me.resolve = async () => 'x';
// one at a time, awaited, as a request resolves its root field
const bare = me.resolve!;
await metrics.graphqlPlugin().serverWillStart!({ schema } as never);
const wrapped = me.resolve!;
const [plain, timed] = await compare([
  async (n) => { for (let i = 0; i < n; i++) await bare(undefined, {}, {}, {} as never); },
  async (n) => { for (let i = 0; i < n; i++) await wrapped(undefined, {}, {}, {} as never); },
]);
rows.push(['GraphQL root resolver, bare', plain], ['GraphQL root resolver, timed', timed], ['  = timing adds (per root field)', timed - plain]);

console.log(`| what (BENCH_N=${N}, node ${process.version}) | ns per request |\n|---|---:|`);
for (const [what, ns] of rows) console.log(`| ${what} | ${ns.toFixed(0)} |`);
