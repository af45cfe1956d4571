// Configuration: every knob is an environment variable with a documented default, validated once here.
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

/** An optional setting: unset or empty means "not set". */
const optional = <T extends z.ZodTypeAny>(type: T) => z.preprocess((v) => (v === '' ? undefined : v), type.optional());

/** A comma-separated list (blanks ignored), each entry matching `re`. */
const csv = (re: RegExp, what: string) => z.string().default('')
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .refine((items) => items.every((x) => re.test(x)), { message: `every entry must be ${what}` });

const schema = z.object({
  /** Where the embedded defaults live: the SQLite file, the blob store, worker caches. Default ./.ril, and
   * $TMPDIR/ril in functions mode (a function's only writable directory is /tmp: unpacked bundles go there). */
  RIL_HOME: z.string().optional(),
  /** A postgresql:// URL switches storage to PostgreSQL; otherwise SQLite at $RIL_HOME/ril.db. */
  DATABASE_URL: z.string().optional(),
  /** `embedded` (`ril serve`: one long-lived process, SQLite allowed, migrations applied at start) or
   * `functions` (serverless: PostgreSQL required, migrations are a release step, small pools). Defaults to
   * `functions` when Vercel's VERCEL variable is set. */
  RIL_DEPLOYMENT: z.enum(['embedded', 'functions']).optional(),
  /** PostgreSQL connections per process (default 10 embedded, 2 in functions: many instances share one server). */
  RIL_DB_POOL_MAX: z.coerce.number().int().min(1).max(200).optional(),
  /** The deployment's own base URL, where the inference functions answer (the GraphQL function forwards
   * Query.infer there). Default on Vercel: https://$VERCEL_URL. */
  RIL_PUBLIC_URL: z.string().url().optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  /** Interface `ril serve` listens on (0.0.0.0 to accept remote workers). */
  RIL_HOST: z.string().default('127.0.0.1'),
  /** Largest blob accepted by PUT /blobs/<sha256> and createBlobUpload (bytes). */
  RIL_MAX_BLOB_BYTES: z.coerce.number().int().positive().default(256 * 1024 * 1024),
  /** Where blob bytes live: `local` ($RIL_HOME/blobs; one machine) or `s3` (an S3-compatible bucket, RIL_S3_*). */
  RIL_BLOB_STORE: z.enum(['local', 's3']).default('local'),
  /** The bucket (required with RIL_BLOB_STORE=s3). */
  RIL_S3_BUCKET: optional(z.string()),
  RIL_S3_REGION: z.string().min(1).default('us-east-1'),
  /** Endpoint of an S3-compatible server (MinIO, R2, ...); unset = AWS S3. Presigned URLs point here, so clients
   * must be able to reach it. */
  RIL_S3_ENDPOINT: optional(z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http(s):// URL')),
  /** `1`: path-style URLs (http://host/bucket/key), which MinIO and most S3-compatible servers need. */
  RIL_S3_FORCE_PATH_STYLE: z.enum(['0', '1']).default('0'),
  /** Key prefix of every object the platform writes: blobs at <prefix><sha256>, direct uploads staged under
   * <prefix>uploads/. */
  RIL_S3_PREFIX: z.string().refine((p) => !p.startsWith('/'), 'must not start with "/"').default('blobs/'),
  /** Static credentials (both or neither); unset = the AWS SDK's default chain (AWS_* variables, profiles, roles). */
  RIL_S3_ACCESS_KEY_ID: optional(z.string()),
  RIL_S3_SECRET_ACCESS_KEY: optional(z.string()),
  /** HMAC key of the short-lived blob URLs (GET /blobs/<sha>?exp=..&sig=..) and of the S3 staging keys. Required
   * when RIL_DEPLOYMENT=functions (every instance must agree); otherwise generated once into
   * $RIL_HOME/url-signing.key (mode 0600). */
  RIL_URL_SIGNING_SECRET: optional(z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)')),
  /** Largest image accepted in a dataset import (bytes). */
  RIL_MAX_IMAGE_BYTES: z.coerce.number().int().positive().default(8 * 1024 * 1024),
  /** Largest request body a caller without an API key may send (bytes; GraphQL): an anonymous caller can do nothing
   * but be refused, so it gets no room to make the server parse megabytes. Larger gets 413. */
  RIL_ANON_MAX_BODY_BYTES: z.coerce.number().int().positive().default(16 * 1024),
  /** Most lexical tokens in a GraphQL document from a caller without an API key; more is refused (400) before the
   * document is parsed further. */
  RIL_ANON_MAX_TOKENS: z.coerce.number().int().positive().default(2000),
  /** The folder whose files importDataset / importTeacherResponses may read by server `path` over the API (embedded
   * mode). Unset (default): server paths are refused over the API; upload instead (blobSha256 / jsonl). Files must be
   * regular files whose real path (symlinks resolved) stays inside it. The local CLI commands read what their user
   * points at, with the same regular-file and size checks. */
  RIL_IMPORT_ROOT: optional(z.string()),
  /** Largest file read by a server-path import (the JSONL itself; images have RIL_MAX_IMAGE_BYTES), in bytes. */
  RIL_MAX_IMPORT_BYTES: z.coerce.number().int().positive().default(256 * 1024 * 1024),
  /** GraphQL query depth and cost limits. */
  RIL_MAX_QUERY_DEPTH: z.coerce.number().int().positive().default(10),
  RIL_MAX_QUERY_COST: z.coerce.number().int().positive().default(250_000),
  /** Inference (POST /v1/infer, /v1/chat/completions): onnxruntime intra-op threads per session run. */
  RIL_INFER_THREADS: z.coerce.number().int().min(1).max(64).default(1),
  /** Largest inference request body (bytes; the base64 image is most of it): larger gets 413. */
  RIL_INFER_MAX_BODY_BYTES: z.coerce.number().int().positive().default(4 * 1024 * 1024),
  /** Inference requests that run at once in this process, on every inference path (/v1/infer, /v1/chat/completions,
   * Query.infer): the rest wait in a queue ... */
  RIL_INFER_CONCURRENCY: z.coerce.number().int().min(1).default(16),
  /** ... of at most this many; beyond it a request is refused at once with 503 and Retry-After (0 = no queue). */
  RIL_INFER_QUEUE: z.coerce.number().int().min(0).default(32),
  /** Batched decoding (api/_lib/inference/batcher.ts): 1 (default) = concurrent requests to the same loaded bundle share
   * prefill and decode runs; 0 = every request runs its own session loop. Bundles of format 1 are never batched. */
  RIL_INFER_BATCH: z.enum(['0', '1']).default('1'),
  /** Longest wait (ms) of a batch starting from idle for the other requests that hold the same runtime (preprocessing or
   * queued) to arrive; a lone request never waits. Requests arriving later join between decode steps. */
  RIL_INFER_BATCH_WAIT_MS: z.coerce.number().min(0).max(1000).default(5),
  /** Most rows in one decode step; further requests wait for a row to leave. */
  RIL_INFER_BATCH_MAX: z.coerce.number().int().min(1).max(256).default(16),
  /** Student runtimes (loaded bundles) one process keeps: beyond it the least recently used idle one is released
   * (and loaded again on its next request); one with requests in flight is never released. */
  RIL_INFER_MAX_RUNTIMES: z.coerce.number().int().min(1).default(4),
  /** Largest size a student bundle archive may unpack to (bytes): a larger one (a gzip bomb) is refused. */
  RIL_MAX_BUNDLE_BYTES: z.coerce.number().int().positive().default(1024 * 1024 * 1024),
  /** Most tokens one inference request may ask for (max_tokens above it gets 400). */
  RIL_INFER_MAX_TOKENS: z.coerce.number().int().positive().default(256),
  /** Per-API-key rate limit on inference: sustained requests per second (token bucket; 0 = no limit) ... */
  RIL_INFER_RATE_LIMIT: z.coerce.number().min(0).default(50),
  /** ... and the bucket size (requests allowed in a burst). Over the limit: 429 with retry-after. */
  RIL_INFER_RATE_BURST: z.coerce.number().int().min(1).default(100),
  /** 1 (default): simple 8-bit gray/RGB PNGs are decoded without sharp (api/_lib/inference/png.ts, the same pixels,
   * about 1-2 ms less per request); 0: sharp decodes every image. */
  RIL_INFER_FAST_PNG: z.enum(['0', '1']).default('1'),
  /** Largest image an inference request may send, in pixels (width x height, read from the header before anything is
   * decoded; also sharp's limitInputPixels): larger gets 400. Images of another size than the model's are resized. */
  RIL_INFER_MAX_IMAGE_PIXELS: z.coerce.number().int().positive().default(4096 * 4096),
  /** Hosts whose http(s) image URLs inference requests may send (the server fetches them): exact host names,
   * comma-separated. Default empty: remote image URLs are refused (send data: URLs). Fetches are https only, follow
   * no redirects, are capped at RIL_INFER_MAX_BODY_BYTES and RIL_INFER_IMAGE_FETCH_MS, must answer image/*, and
   * never reach loopback, private, link-local or metadata addresses (see RIL_INFER_IMAGE_ALLOW_PRIVATE). */
  RIL_INFER_IMAGE_HOSTS: csv(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)$/, 'a host name'),
  /** 1: image URLs may be http:// too (tests, a local image server); 0 (default): https only. */
  RIL_INFER_IMAGE_ALLOW_HTTP: z.enum(['0', '1']).default('0'),
  /** 1: the hosts of RIL_INFER_IMAGE_HOSTS may resolve to loopback/private/link-local addresses (an image server on
   * the private network); 0 (default): such addresses are refused even for a listed host. */
  RIL_INFER_IMAGE_ALLOW_PRIVATE: z.enum(['0', '1']).default('0'),
  /** Longest one image fetch may take, connect to last byte (ms). */
  RIL_INFER_IMAGE_FETCH_MS: z.coerce.number().int().positive().default(5000),
  /** How long (ms) a server trusts a key it has checked against the database for the /v1/* inference routes
   * (a per-process cache of valid keys; 0 = off, every request reads the key). A key revoked through another
   * instance is refused here at the latest this long after; one revoked through this instance at once. */
  RIL_KEY_CACHE_MS: z.coerce.number().int().min(0).default(1000),
  /** How long a server trusts its cached view of a deployment's live revision (ms) before re-reading it, so a
   * deploy/rollback made by another instance is picked up; deploys made by this instance switch at once. */
  RIL_DEPLOYMENT_REFRESH_MS: z.coerce.number().int().min(0).default(2000),
  /** Job retry backoff: base * 2^(attempt-1), capped (milliseconds). */
  RIL_JOB_BACKOFF_MS: z.coerce.number().int().min(0).default(5000),
  RIL_JOB_BACKOFF_MAX_MS: z.coerce.number().int().min(0).default(300_000),
  /** How often `ril serve`'s in-process worker and `ril worker --kind teacher-fill` poll for TEACHER_FILL jobs (0: `ril serve`
   * runs no worker; the standalone worker then polls every second). */
  RIL_TS_WORKER_POLL_MS: z.coerce.number().int().min(0).default(1000),
  /** Log SQL queries to stderr (debugging). */
  RIL_LOG_SQL: z.enum(['0', '1']).default('0'),
  /** Bearer secret Vercel sends to cron functions (api/cron/*). When set, calls without it get 401; when unset, cron
   * functions refuse every call in functions mode (and accept any in embedded mode, for local testing). */
  CRON_SECRET: z.string().min(1).optional(),
  /** How long one call of the teacher-fill cron function may drain the queue (ms): keep it under the function's
   * maxDuration (default 50 000 for a 60 s function); a fill still running then is paused and resumed later. */
  RIL_CRON_BUDGET_MS: z.coerce.number().int().min(1000).default(50_000),
  /** Largest unpacked size of a dataset archive (.tar/.tar.gz) given to importDataset (bytes): stops gzip bombs. */
  RIL_MAX_UNPACKED_BYTES: z.coerce.number().int().positive().default(512 * 1024 * 1024),
  /** Names of the environment variables that may be sent to an endpoint as its bearer key (a teacher's apiKeyEnv, a
   * training config's judge_api_key_env), comma-separated. Default empty: no endpoint keys at all until the operator
   * names them (otherwise a caller could name DATABASE_URL and receive its value at a URL of their choosing). */
  RIL_SECRET_ENV_ALLOWLIST: csv(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name'),
  /** Hosts that outbound calls (teachers, judges) may reach although they resolve to loopback, private, link-local,
   * CGNAT or other non-public addresses: exact `host` or `host:port` entries (IPv6 in brackets), comma-separated.
   * Default empty: only public addresses. */
  RIL_OUTBOUND_ALLOW_HOSTS: csv(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/, 'a host or host:port'),
  /** Largest response body an outbound call (teacher, judge) reads, in bytes; a larger one fails that request. */
  RIL_OUTBOUND_MAX_BYTES: z.coerce.number().int().positive().default(4 * 1024 * 1024),
  /** Longest one outbound request may take, connect to last byte (ms); a teacher fill's own timeout is capped by it. */
  RIL_OUTBOUND_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
  /** Where `npm run build:web` wrote the dashboard that `ril serve` serves at / (default: public/ in the package). */
  RIL_PUBLIC_DIR: z.string().optional(),
  /** One JSON line per HTTP request on stdout (route, method, role, status, duration ms, request id; never keys,
   * query strings or bodies). 1 (default) on, 0 off. */
  RIL_LOG_REQUESTS: z.enum(['0', '1']).default('1'),
  /** Bearer token a Prometheus scraper may send to GET /metrics instead of an ADMIN key (compared in constant time,
   * never logged). Unset (default): only ADMIN keys may scrape. */
  RIL_METRICS_TOKEN: optional(z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)')),
  /** `host:port` of a second listener of `ril serve` that serves only GET /metrics, without auth, on an interface the
   * operator chooses (e.g. 127.0.0.1:9464). Unset (default): no such listener. Not used by the functions. */
  RIL_METRICS_LISTEN: optional(z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:9464')),
});

export type Env = Omit<z.infer<typeof schema>, 'RIL_HOME' | 'RIL_DEPLOYMENT' | 'RIL_DB_POOL_MAX'> & {
  RIL_HOME: string;
  RIL_DEPLOYMENT: 'embedded' | 'functions';
  RIL_DB_POOL_MAX: number;
  /** RIL_PUBLIC_URL, or https://$VERCEL_URL on Vercel. */
  publicUrl: string | undefined;
  home: string;
  blobDir: string;
  bundleDir: string;
};

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid environment: ${detail}`);
  }
  const deployment = parsed.data.RIL_DEPLOYMENT ?? (source.VERCEL ? 'functions' : 'embedded');
  const home = path.resolve(parsed.data.RIL_HOME ?? (deployment === 'functions' ? path.join(os.tmpdir(), 'ril') : './.ril'));
  return {
    ...parsed.data, RIL_HOME: home, RIL_DEPLOYMENT: deployment, RIL_DB_POOL_MAX: parsed.data.RIL_DB_POOL_MAX ?? (deployment === 'functions' ? 2 : 10),
    publicUrl: parsed.data.RIL_PUBLIC_URL ?? (source.VERCEL_URL ? `https://${source.VERCEL_URL}` : undefined),
    home, blobDir: path.join(home, 'blobs'), bundleDir: path.join(home, 'bundles'),
  };
}
