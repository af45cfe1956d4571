import type { GraphQLResolveInfo, GraphQLScalarType, GraphQLScalarTypeConfig } from 'graphql';
import type { DatasetModel, ExampleModel, TeacherModel, TeacherResponseModel, ApiKeyModel, TeacherCoverageModel, DatasetStatsModel, ArtifactModel, DeploymentModel, DeploymentRevisionModel, ExperimentModel, RunModel, JobModel, WorkerModel, BlobModel, EvalSuiteModel, EvalSuiteVersionModel, EvalSuiteDatasetModel, EvalSubjectModel, EvalResultModel, EvalExampleRecordModel, EvaluationTableModel, EvaluationColumnModel, EvaluationRowModel } from '../mappers.js';
import type { Context } from '../context.js';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Omit<T, K extends keyof T> = Pick<T, Exclude<keyof T, K>>;
export type RequireFields<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  DateTime: { input: Date; output: Date; }
  JSON: { input: unknown; output: unknown; }
};

export type AddEvalSuiteVersionInput = {
  datasets: Array<EvalSuiteDatasetInput>;
  suite: Scalars['String']['input'];
};

export type Algorithm =
  | 'DR_GRPO'
  | 'GRPO'
  | 'RIL'
  | 'SFT';

export type AnswerCount = {
  __typename?: 'AnswerCount';
  answer: Scalars['String']['output'];
  count: Scalars['Int']['output'];
};

export type ApiKey = {
  __typename?: 'ApiKey';
  createdAt: Scalars['DateTime']['output'];
  id: Scalars['ID']['output'];
  lastUsedAt?: Maybe<Scalars['DateTime']['output']>;
  name: Scalars['String']['output'];
  prefix: Scalars['String']['output'];
  revokedAt?: Maybe<Scalars['DateTime']['output']>;
  role: Role;
};

export type Artifact = {
  __typename?: 'Artifact';
  blobSha256: Scalars['String']['output'];
  createdAt: Scalars['DateTime']['output'];
  id: Scalars['ID']['output'];
  kind: ArtifactKind;
  metadata: Scalars['JSON']['output'];
  name: Scalars['String']['output'];
  runId?: Maybe<Scalars['ID']['output']>;
  size: Scalars['Int']['output'];
};

export type ArtifactKind =
  | 'BUNDLE'
  | 'CHECKPOINT'
  | 'DISCRIMINATOR'
  | 'OTHER';

/** A content-addressed blob: bytes identified by their sha256. */
export type Blob = {
  __typename?: 'Blob';
  contentType: Scalars['String']['output'];
  createdAt: Scalars['DateTime']['output'];
  sha256: Scalars['String']['output'];
  size: Scalars['Int']['output'];
};

export type BlobDownload = {
  __typename?: 'BlobDownload';
  expiresAt: Scalars['DateTime']['output'];
  /** GET it (no key needed). Relative URLs are relative to the API. */
  url: Scalars['String']['output'];
};

/**
 * Where to send a blob's bytes: `method` them to `url` with `headers`, then call completeBlobUpload.
 * alreadyExists = nothing to send. A relative `url` is the API's own (send your key as Authorization: Bearer);
 * an absolute one is presigned (send no Authorization header) and expires at `expiresAt`.
 */
export type BlobUpload = {
  __typename?: 'BlobUpload';
  alreadyExists: Scalars['Boolean']['output'];
  expiresAt?: Maybe<Scalars['DateTime']['output']>;
  headers: Scalars['JSON']['output'];
  method: Scalars['String']['output'];
  sha256: Scalars['String']['output'];
  url?: Maybe<Scalars['String']['output']>;
};

export type ClaimJobInput = {
  kinds: Array<JobKind>;
  leaseSeconds?: InputMaybe<Scalars['Int']['input']>;
  workerId: Scalars['ID']['input'];
};

export type ComparedSeries = {
  __typename?: 'ComparedSeries';
  name: Scalars['String']['output'];
  runs: Array<RunSeries>;
};

export type CompleteJobInput = {
  /** The lease's fencing token: Job.attempts as claimJob returned it. */
  attempt: Scalars['Int']['input'];
  jobId: Scalars['ID']['input'];
  result?: InputMaybe<Scalars['JSON']['input']>;
  workerId: Scalars['ID']['input'];
};

export type ConfigDifference = {
  __typename?: 'ConfigDifference';
  key: Scalars['String']['output'];
  /** One value per run, in the order of `runs`. */
  values: Array<Maybe<Scalars['JSON']['output']>>;
};

export type CreateApiKeyInput = {
  name: Scalars['String']['input'];
  role: Role;
};

export type CreateBlobUploadInput = {
  contentType?: InputMaybe<Scalars['String']['input']>;
  /** sha256 of the bytes (64 lowercase hex digits) */
  sha256: Scalars['String']['input'];
  /** exact length in bytes */
  size: Scalars['Int']['input'];
};

export type CreateEvalSuiteInput = {
  datasets: Array<EvalSuiteDatasetInput>;
  description?: InputMaybe<Scalars['String']['input']>;
  name: Scalars['String']['input'];
};

export type CreateExperimentInput = {
  algorithm: Algorithm;
  /** Trainer config overrides (see trainerConfigSchema); unknown keys and out-of-range values are rejected. */
  config?: InputMaybe<Scalars['JSON']['input']>;
  datasetId: Scalars['ID']['input'];
  name: Scalars['String']['input'];
  /**
   * The built-in student's size: nano | small | base (required for the built-in family). Leave it out for a Hugging
   * Face student (config.student.family "hf"): that student is config.student.model, and a size with it is refused.
   */
  studentSize?: InputMaybe<Scalars['String']['input']>;
  /** Teachers whose cached responses RIL imitates (multi-teacher: all of them). */
  teachers?: InputMaybe<Array<Scalars['String']['input']>>;
};

export type CreatedApiKey = {
  __typename?: 'CreatedApiKey';
  key: ApiKey;
  /** The secret. Shown once. */
  secret: Scalars['String']['output'];
};

export type Dataset = {
  __typename?: 'Dataset';
  createdAt: Scalars['DateTime']['output'];
  description?: Maybe<Scalars['String']['output']>;
  exampleCount: Scalars['Int']['output'];
  examples: ExampleConnection;
  id: Scalars['ID']['output'];
  name: Scalars['String']['output'];
  stats: DatasetStats;
  /** Teachers with at least one cached response on this dataset, with their coverage. */
  teacherCoverage: Array<TeacherCoverage>;
  version: Scalars['Int']['output'];
};


export type DatasetExamplesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  split?: InputMaybe<Split>;
};


export type DatasetTeacherCoverageArgs = {
  minSamples?: InputMaybe<Scalars['Int']['input']>;
};

export type DatasetConnection = {
  __typename?: 'DatasetConnection';
  edges: Array<DatasetEdge>;
  pageInfo: PageInfo;
  totalCount: Scalars['Int']['output'];
};

export type DatasetEdge = {
  __typename?: 'DatasetEdge';
  cursor: Scalars['String']['output'];
  node: Dataset;
};

export type DatasetStats = {
  __typename?: 'DatasetStats';
  splits: Array<SplitCount>;
  topAnswers: Array<AnswerCount>;
};


export type DatasetStatsTopAnswersArgs = {
  limit?: InputMaybe<Scalars['Int']['input']>;
};

export type DeployInput = {
  artifactId: Scalars['ID']['input'];
  name: Scalars['String']['input'];
  note?: InputMaybe<Scalars['String']['input']>;
  /**
   * Which variant of the bundle to serve (a Hugging Face bundle's fp32, int8, q4 or fp16: see the artifact's
   * metadata.bundle.variants); default: the bundle's default variant. Built-in bundles have no variants.
   */
  variant?: InputMaybe<Scalars['String']['input']>;
};

export type Deployment = {
  __typename?: 'Deployment';
  createdAt: Scalars['DateTime']['output'];
  error?: Maybe<Scalars['String']['output']>;
  id: Scalars['ID']['output'];
  /** Request timings of the live revision on the server answering (a sliding window of the last 1024 requests). */
  latency: LatencyStats;
  liveRevision?: Maybe<DeploymentRevision>;
  name: Scalars['String']['output'];
  /** Newest first. */
  revisions: Array<DeploymentRevision>;
  status: DeploymentStatus;
  updatedAt: Scalars['DateTime']['output'];
};

export type DeploymentRevision = {
  __typename?: 'DeploymentRevision';
  artifact: Artifact;
  createdAt: Scalars['DateTime']['output'];
  id: Scalars['ID']['output'];
  live: Scalars['Boolean']['output'];
  note?: Maybe<Scalars['String']['output']>;
  revision: Scalars['Int']['output'];
  /** The bundle variant served (null: the bundle's default). */
  variant?: Maybe<Scalars['String']['output']>;
};

/**
 * As seen by the server answering: LIVE = the live revision is loaded here; STANDBY = it loads on the first
 * request; FAILED = the last load here failed (see `error`); EMPTY = no live revision.
 */
export type DeploymentStatus =
  | 'EMPTY'
  | 'FAILED'
  | 'LIVE'
  | 'STANDBY';

export type EvalExampleConnection = {
  __typename?: 'EvalExampleConnection';
  /** Records with correct = true (over all pages). */
  correctCount: Scalars['Int']['output'];
  edges: Array<EvalExampleEdge>;
  pageInfo: PageInfo;
  totalCount: Scalars['Int']['output'];
};

export type EvalExampleEdge = {
  __typename?: 'EvalExampleEdge';
  cursor: Scalars['String']['output'];
  node: EvalExampleRecord;
};

export type EvalExampleInput = {
  /** The judge's verdict. */
  correct: Scalars['Boolean']['input'];
  /** The example's id in its dataset (the JSONL id). */
  externalId: Scalars['String']['input'];
  /** What the subject answered (at most 20000 characters). */
  response: Scalars['String']['input'];
  /** Tokens the subject generated (its own tokenizer), when known. */
  responseTokens?: InputMaybe<Scalars['Int']['input']>;
};

export type EvalExampleRecord = {
  __typename?: 'EvalExampleRecord';
  correct: Scalars['Boolean']['output'];
  createdAt: Scalars['DateTime']['output'];
  example: Example;
  externalId: Scalars['String']['output'];
  id: Scalars['ID']['output'];
  jobId?: Maybe<Scalars['ID']['output']>;
  response: Scalars['String']['output'];
  responseTokens?: Maybe<Scalars['Int']['output']>;
};

export type EvalJudge =
  /** A judge model behind an OpenAI-compatible endpoint. */
  | 'LLM'
  /** The trainer's rule judge (normalised answer match). */
  | 'RULE';

export type EvalResult = {
  __typename?: 'EvalResult';
  accuracy: Scalars['Float']['output'];
  createdAt: Scalars['DateTime']['output'];
  entry: EvalSuiteDataset;
  id: Scalars['ID']['output'];
  /** The EVALUATE job that wrote it. */
  jobId?: Maybe<Scalars['ID']['output']>;
  meanResponseLength?: Maybe<Scalars['Float']['output']>;
  n: Scalars['Int']['output'];
  subject: EvalSubject;
  updatedAt: Scalars['DateTime']['output'];
};

export type EvalSubject = {
  __typename?: 'EvalSubject';
  apiKeyEnv?: Maybe<Scalars['String']['output']>;
  deployment?: Maybe<Scalars['String']['output']>;
  endpoint?: Maybe<Scalars['String']['output']>;
  id: Scalars['ID']['output'];
  kind: EvalSubjectKind;
  /** A readable name: the run's experiment and seed, the deployment and revision, or model @ endpoint. */
  label: Scalars['String']['output'];
  model?: Maybe<Scalars['String']['output']>;
  revision?: Maybe<Scalars['Int']['output']>;
  run?: Maybe<Run>;
  teacher?: Maybe<Scalars['String']['output']>;
};

/**
 * Who is scored. RUN: runId. DEPLOYMENT: deployment (and revision; default the live one). EXTERNAL: endpoint + model
 * (and apiKeyEnv, the NAME of an allowlisted variable holding its key; not part of its identity). TEACHER: teacher.
 */
export type EvalSubjectInput = {
  apiKeyEnv?: InputMaybe<Scalars['String']['input']>;
  deployment?: InputMaybe<Scalars['String']['input']>;
  endpoint?: InputMaybe<Scalars['String']['input']>;
  kind: EvalSubjectKind;
  model?: InputMaybe<Scalars['String']['input']>;
  revision?: InputMaybe<Scalars['Int']['input']>;
  runId?: InputMaybe<Scalars['ID']['input']>;
  teacher?: InputMaybe<Scalars['String']['input']>;
};

export type EvalSubjectKind =
  /** A deployment at one revision. */
  | 'DEPLOYMENT'
  /** A model behind an OpenAI-compatible endpoint. */
  | 'EXTERNAL'
  /** A training run (its newest checkpoint). */
  | 'RUN'
  /** A teacher, scored from its cached responses (sample 0): what distilling from it can aim for. */
  | 'TEACHER';

export type EvalSuite = {
  __typename?: 'EvalSuite';
  createdAt: Scalars['DateTime']['output'];
  description?: Maybe<Scalars['String']['output']>;
  id: Scalars['ID']['output'];
  latest: EvalSuiteVersion;
  name: Scalars['String']['output'];
  version?: Maybe<EvalSuiteVersion>;
  /** Oldest first. */
  versions: Array<EvalSuiteVersion>;
};


export type EvalSuiteVersionArgs = {
  version: Scalars['Int']['input'];
};

export type EvalSuiteDataset = {
  __typename?: 'EvalSuiteDataset';
  dataset: Dataset;
  id: Scalars['ID']['output'];
  judge: EvalJudge;
  judgeApiKeyEnv?: Maybe<Scalars['String']['output']>;
  judgeEndpoint?: Maybe<Scalars['String']['output']>;
  judgeModel?: Maybe<Scalars['String']['output']>;
  /** name@version/split, with the judge model for an LLM judge. */
  label: Scalars['String']['output'];
  /** 0-based column position. */
  position: Scalars['Int']['output'];
  sampleLimit?: Maybe<Scalars['Int']['output']>;
  split: Split;
};

/** One dataset of a suite version. Give exactly one of datasetId and dataset. */
export type EvalSuiteDatasetInput = {
  /** A dataset name (its newest version, pinned when the suite version is made) or name@version. */
  dataset?: InputMaybe<Scalars['String']['input']>;
  datasetId?: InputMaybe<Scalars['ID']['input']>;
  judge?: InputMaybe<EvalJudge>;
  /** LLM judge: NAME of the environment variable holding the key (in RIL_SECRET_ENV_ALLOWLIST); never the key. */
  judgeApiKeyEnv?: InputMaybe<Scalars['String']['input']>;
  /** LLM judge: OpenAI-compatible base URL (the outbound checks of registerTeacher apply). */
  judgeEndpoint?: InputMaybe<Scalars['String']['input']>;
  /** LLM judge: the model name. */
  judgeModel?: InputMaybe<Scalars['String']['input']>;
  /** Score at most this many examples of the split (in dataset order); null: all. */
  sampleLimit?: InputMaybe<Scalars['Int']['input']>;
  split?: InputMaybe<Split>;
};

export type EvalSuiteVersion = {
  __typename?: 'EvalSuiteVersion';
  createdAt: Scalars['DateTime']['output'];
  /** In column order. */
  datasets: Array<EvalSuiteDataset>;
  /** True once a result refers to it: its datasets can no longer change. */
  frozen: Scalars['Boolean']['output'];
  id: Scalars['ID']['output'];
  results: Array<EvalResult>;
  suite: EvalSuite;
  version: Scalars['Int']['output'];
};


export type EvalSuiteVersionResultsArgs = {
  subjectId?: InputMaybe<Scalars['ID']['input']>;
};

/**
 * Accuracy (0..1) of a row in a column. A run group's cell is the mean over its seeds with a 95% interval (Student's t,
 * n - 1 degrees of freedom); a single value has no interval. The average column is the mean over subjects of each one's
 * unweighted mean over the datasets (only subjects scored on every dataset).
 */
export type EvaluationCell = {
  __typename?: 'EvaluationCell';
  /** The highest mean of its column (ties: each). */
  best: Scalars['Boolean']['output'];
  /** mean ± halfWidth is the 95% interval; null when n < 2 */
  halfWidth?: Maybe<Scalars['Float']['output']>;
  high?: Maybe<Scalars['Float']['output']>;
  low?: Maybe<Scalars['Float']['output']>;
  /** null: no result */
  mean?: Maybe<Scalars['Float']['output']>;
  /** How many values (seeds) the mean is over. */
  n: Scalars['Int']['output'];
};

export type EvaluationColumn = {
  __typename?: 'EvaluationColumn';
  /** null for the average column */
  entry?: Maybe<EvalSuiteDataset>;
  label: Scalars['String']['output'];
};

export type EvaluationRow = {
  __typename?: 'EvaluationRow';
  /** One per column, in column order. */
  cells: Array<EvaluationCell>;
  /** Set when the row groups the runs (seeds) of one experiment. */
  experiment?: Maybe<Experiment>;
  kind: EvalSubjectKind;
  label: Scalars['String']['output'];
  /** The subjects the row is over (one per seed for runs); empty for a subject never scored on this version. */
  subjects: Array<EvalSubject>;
};

export type EvaluationTable = {
  __typename?: 'EvaluationTable';
  /** The version's datasets in order, then the average (entry null). */
  columns: Array<EvaluationColumn>;
  rows: Array<EvaluationRow>;
  suite: EvalSuite;
  version: EvalSuiteVersion;
};

export type Example = {
  __typename?: 'Example';
  answer: Scalars['String']['output'];
  dataset: Dataset;
  externalId: Scalars['String']['output'];
  id: Scalars['ID']['output'];
  imageSha256: Scalars['String']['output'];
  /** A short-lived URL of the image (signed; see Query.blobDownloadUrl): relative to the API, or absolute on S3. */
  imageUrl: Scalars['String']['output'];
  question: Scalars['String']['output'];
  split: Split;
  teacherResponses: Array<TeacherResponse>;
};


export type ExampleTeacherResponsesArgs = {
  teacher?: InputMaybe<Scalars['String']['input']>;
};

export type ExampleConnection = {
  __typename?: 'ExampleConnection';
  edges: Array<ExampleEdge>;
  pageInfo: PageInfo;
  totalCount: Scalars['Int']['output'];
};

export type ExampleEdge = {
  __typename?: 'ExampleEdge';
  cursor: Scalars['String']['output'];
  node: Example;
};

export type Experiment = {
  __typename?: 'Experiment';
  algorithm: Algorithm;
  /** The full validated config (defaults filled in). */
  config: Scalars['JSON']['output'];
  createdAt: Scalars['DateTime']['output'];
  dataset: Dataset;
  /** GPUs each run's TRAIN job needs (config.gpus): 0 = any worker, CPU included; N = only a worker with >= N GPUs. */
  gpus: Scalars['Int']['output'];
  id: Scalars['ID']['output'];
  name: Scalars['String']['output'];
  runs: Array<Run>;
  student: StudentInfo;
  /** The built-in student's size (nano | small | base); null for a Hugging Face student (see student). */
  studentSize?: Maybe<Scalars['String']['output']>;
  teachers: Array<Scalars['String']['output']>;
};

export type ExperimentConnection = {
  __typename?: 'ExperimentConnection';
  edges: Array<ExperimentEdge>;
  pageInfo: PageInfo;
  totalCount: Scalars['Int']['output'];
};

export type ExperimentEdge = {
  __typename?: 'ExperimentEdge';
  cursor: Scalars['String']['output'];
  node: Experiment;
};

export type FailJobInput = {
  /** The lease's fencing token: Job.attempts as claimJob returned it. */
  attempt: Scalars['Int']['input'];
  error: Scalars['String']['input'];
  jobId: Scalars['ID']['input'];
  retryable?: InputMaybe<Scalars['Boolean']['input']>;
  workerId: Scalars['ID']['input'];
};

export type FillTeacherCacheInput = {
  concurrency?: InputMaybe<Scalars['Int']['input']>;
  datasetId: Scalars['ID']['input'];
  limit?: InputMaybe<Scalars['Int']['input']>;
  samplesPerExample?: InputMaybe<Scalars['Int']['input']>;
  split?: InputMaybe<Split>;
  teacher: Scalars['String']['input'];
};

export type FinalMetric = {
  __typename?: 'FinalMetric';
  name: Scalars['String']['output'];
  step: Scalars['Int']['output'];
  value: Scalars['Float']['output'];
};

export type HeartbeatInput = {
  /** The lease's fencing token: Job.attempts as claimJob returned it. */
  attempt: Scalars['Int']['input'];
  jobId: Scalars['ID']['input'];
  /** 1..3600, like claimJob's. */
  leaseSeconds?: InputMaybe<Scalars['Int']['input']>;
  step?: InputMaybe<Scalars['Int']['input']>;
  totalSteps?: InputMaybe<Scalars['Int']['input']>;
  workerId: Scalars['ID']['input'];
};

export type HeartbeatResult = {
  __typename?: 'HeartbeatResult';
  cancelRequested: Scalars['Boolean']['output'];
  leaseExpiresAt: Scalars['DateTime']['output'];
};

/** Give exactly one of `blobSha256` and `path`. */
export type ImportDatasetInput = {
  /**
   * An uploaded blob (PUT /blobs/<sha256>): a JSONL file whose images are `sha256:<hash>` references to uploaded
   * blobs, or a .tar / .tar.gz archive holding `examples.jsonl` and the image files it references (paths relative
   * to it).
   */
  blobSha256?: InputMaybe<Scalars['String']['input']>;
  description?: InputMaybe<Scalars['String']['input']>;
  name: Scalars['String']['input'];
  /** Path of a JSONL file on the server's disk: for the local CLI only; refused when RIL_DEPLOYMENT=functions. */
  path?: InputMaybe<Scalars['String']['input']>;
};

export type ImportTeacherResponsesInput = {
  datasetId: Scalars['ID']['input'];
  jsonl?: InputMaybe<Scalars['String']['input']>;
  path?: InputMaybe<Scalars['String']['input']>;
};

export type ImportTeacherResponsesResult = {
  __typename?: 'ImportTeacherResponsesResult';
  imported: Scalars['Int']['output'];
  teachers: Array<Teacher>;
};

export type InferInput = {
  deployment: Scalars['String']['input'];
  /** Base64 or a data: URL of a PNG, JPEG, WebP, GIF, AVIF or TIFF image (another size than the model's is resized), or an https URL on a host listed in RIL_INFER_IMAGE_HOSTS. */
  image: Scalars['String']['input'];
  /** Default min(64, what fits); at most RIL_INFER_MAX_TOKENS. */
  maxTokens?: InputMaybe<Scalars['Int']['input']>;
  question: Scalars['String']['input'];
  repetitionPenalty?: InputMaybe<Scalars['Float']['input']>;
  seed?: InputMaybe<Scalars['Int']['input']>;
  /** 0 (default) = greedy. */
  temperature?: InputMaybe<Scalars['Float']['input']>;
  topK?: InputMaybe<Scalars['Int']['input']>;
  topP?: InputMaybe<Scalars['Float']['input']>;
};

export type InferResult = {
  __typename?: 'InferResult';
  answer: Scalars['String']['output'];
  deployment: Scalars['String']['output'];
  finishReason: Scalars['String']['output'];
  revision: Scalars['Int']['output'];
  timings: InferTimings;
  tokenIds: Array<Scalars['Int']['output']>;
  /** Generated tokens, the final <eos> included when the answer ended with one. */
  tokens: Scalars['Int']['output'];
};

export type InferTimings = {
  __typename?: 'InferTimings';
  decodeTokensPerSecond?: Maybe<Scalars['Float']['output']>;
  preprocessMs: Scalars['Float']['output'];
  totalMs: Scalars['Float']['output'];
  /** Request start to the first token chosen (preprocessing + prefill). */
  ttftMs: Scalars['Float']['output'];
};

export type Job = {
  __typename?: 'Job';
  attempts: Scalars['Int']['output'];
  availableAt: Scalars['DateTime']['output'];
  cancelRequested: Scalars['Boolean']['output'];
  createdAt: Scalars['DateTime']['output'];
  error?: Maybe<Scalars['String']['output']>;
  finishedAt?: Maybe<Scalars['DateTime']['output']>;
  heartbeatAt?: Maybe<Scalars['DateTime']['output']>;
  id: Scalars['ID']['output'];
  kind: JobKind;
  leaseExpiresAt?: Maybe<Scalars['DateTime']['output']>;
  leaseOwner?: Maybe<Worker>;
  maxAttempts: Scalars['Int']['output'];
  payload: Scalars['JSON']['output'];
  priority: Scalars['Int']['output'];
  /** What a worker needs to claim it. */
  requirements: JobRequirements;
  result?: Maybe<Scalars['JSON']['output']>;
  run?: Maybe<Run>;
  startedAt?: Maybe<Scalars['DateTime']['output']>;
  status: JobStatus;
  /**
   * Why a QUEUED job is not being picked up, when the platform can tell: e.g. "waiting for a worker with 2 GPUs"
   * when no worker seen in the last 10 minutes has that many. Null otherwise.
   */
  waitingFor?: Maybe<Scalars['String']['output']>;
};

export type JobKind =
  | 'EVALUATE'
  | 'TEACHER_FILL'
  | 'TRAIN';

export type JobRequirements = {
  __typename?: 'JobRequirements';
  /** 0: any worker (CPU included); N: only a worker whose registered capabilities report >= N GPUs. */
  gpus: Scalars['Int']['output'];
  /** Only a worker whose capabilities report Hugging Face transformers (a TRAIN job of an hf student, or an EVALUATE job that scores an hf run's checkpoint). */
  transformers: Scalars['Boolean']['output'];
};

export type JobStatus =
  | 'CANCELLED'
  | 'FAILED'
  | 'LEASED'
  | 'QUEUED'
  | 'SUCCEEDED';

export type LatencyStats = {
  __typename?: 'LatencyStats';
  decodeTokensPerSecond?: Maybe<Scalars['Float']['output']>;
  p50Ms?: Maybe<Scalars['Float']['output']>;
  p95Ms?: Maybe<Scalars['Float']['output']>;
  requests: Scalars['Int']['output'];
  /** Time to first token (preprocessing included), median. */
  ttftP50Ms?: Maybe<Scalars['Float']['output']>;
};

export type MetricInput = {
  name: Scalars['String']['input'];
  step: Scalars['Int']['input'];
  value: Scalars['Float']['input'];
};

export type MetricPoint = {
  __typename?: 'MetricPoint';
  step: Scalars['Int']['output'];
  value: Scalars['Float']['output'];
};

export type MetricSeries = {
  __typename?: 'MetricSeries';
  name: Scalars['String']['output'];
  points: Array<MetricPoint>;
};

export type Mutation = {
  __typename?: 'Mutation';
  /** Add a version (the newest + 1) to a suite; earlier versions and their results stay as they are. */
  addEvalSuiteVersion: EvalSuiteVersion;
  /** Cancel a run: a queued job is cancelled at once, a running one at its worker's next heartbeat. */
  cancelRun: Run;
  /** Atomically lease the next available job of the given kinds, or null. Job.attempts is the lease's fencing token: the worker sends it back with every call under this lease. */
  claimJob?: Maybe<Job>;
  /**
   * Step 2: verifies what was sent (sha256 and size) and records the blob; BAD_USER_INPUT (and nothing stored)
   * when the bytes do not match or nothing was sent. Idempotent.
   */
  completeBlobUpload: Blob;
  completeJob: Job;
  /** Create an API key. The secret is returned once and stored only as a hash. */
  createApiKey: CreatedApiKey;
  /**
   * Step 1 of an upload (EDITOR or WORKER keys): checks the hash, the size (at most RIL_MAX_BLOB_BYTES) and the
   * content type, and says where to send the bytes. alreadyExists: the blob is stored, nothing to send.
   */
  createBlobUpload: BlobUpload;
  /** Create a suite with its version 1. CONFLICT when the name exists. */
  createEvalSuite: EvalSuite;
  /** Create an experiment. The config is validated against the trainer's schema; defaults are filled in. */
  createExperiment: Experiment;
  /**
   * Deploy a BUNDLE artifact under a name: a new revision that becomes live once its sessions are loaded and
   * warmed up (a bundle that fails its checks is refused and nothing changes). In-flight requests finish on
   * the revision they started on.
   */
  deploy: Deployment;
  /** Fail the job; a retryable failure goes back to the queue (with backoff) until maxAttempts. */
  failJob: Job;
  /**
   * Queue a TEACHER_FILL job that fills a teacher cache by calling the teacher's OpenAI-compatible endpoint; the
   * input is checked here. The job is drained by `ril serve`, `ril worker --kind teacher-fill` or the cron function
   * (resumable: what is cached is never asked again). Its `result` is
   * { requested, filled, alreadyCached, failed, errors } once it succeeds.
   */
  fillTeacherCache: Job;
  /** Extend the lease and report progress. Answers whether cancellation was requested. */
  heartbeat: HeartbeatResult;
  /**
   * Import a dataset from a JSONL file on the server's filesystem (blueprint format; images relative to the file).
   * Admin/editor only. Atomic: a bad line fails the whole import with BAD_USER_INPUT listing every bad line.
   */
  importDataset: Dataset;
  /** Import a teacher cache JSONL (server-side path, or inline `jsonl` text) into a dataset's examples. */
  importTeacherResponses: ImportTeacherResponsesResult;
  /** Queue an EVALUATE job: score a run's newest checkpoint (or a bundle artifact) on a split with the trainer's judge. */
  queueEvaluation: Job;
  /**
   * Queue an EVALUATE job that scores one subject on every dataset of a suite version (the newest when version is
   * null). A worker records each example as it goes, each dataset's accuracy when it is complete, and the suite average
   * in the job's result; a crashed job resumes with only what is missing. RUN, DEPLOYMENT, EXTERNAL and TEACHER
   * subjects are scored by the Python worker (`ril worker`).
   */
  queueSuiteEvaluation: Job;
  /**
   * Queue a TEACHER_FILL job: the same as fillTeacherCache.
   * @deprecated use fillTeacherCache, which now queues the job
   */
  queueTeacherFill: Job;
  /**
   * Record scored examples of an EVALUATE job over a suite (WORKER keys; at most 500 per call), scoped like
   * recordEvalResult. Idempotent per (version, subject, entry, example): an example already recorded keeps its first
   * record and counts as a duplicate.
   */
  recordEvalExamples: RecordEvalExamplesResult;
  /**
   * Record one dataset's score of an EVALUATE job over a suite (WORKER keys): only the worker holding the job, on its
   * lease `attempt`, for the suite version and subject the job's payload names. Idempotent per (version, subject,
   * dataset entry): a replay or a resumed attempt rewrites the row. The first result freezes the version.
   */
  recordEvalResult: EvalResult;
  /**
   * Record an uploaded blob (createBlobUpload + completeBlobUpload, or PUT /blobs/<sha256>, first) as an artifact.
   * A BUNDLE must be a (gzipped) tar of a student bundle directory; its manifest and sha256s are checked here and summarised in `metadata`.
   */
  registerArtifact: Artifact;
  /**
   * Register a teacher. Registering an existing name again succeeds only with the same kind, baseUrl and apiKeyEnv
   * (the model name may change); other endpoint settings get CONFLICT: use updateTeacherEndpoint (ADMIN).
   * baseUrl must be http(s) and not a loopback/private/link-local address unless the operator allows the host
   * (RIL_OUTBOUND_ALLOW_HOSTS); apiKeyEnv must be listed in RIL_SECRET_ENV_ALLOWLIST (else BAD_USER_INPUT).
   */
  registerTeacher: Teacher;
  registerWorker: Worker;
  /** Write metric points; idempotent per (run, name, step): a replay writes nothing twice. */
  reportMetrics: ReportMetricsResult;
  /** Queue a failed or cancelled run again; the worker resumes from its newest checkpoint. */
  retryRun: Run;
  revokeApiKey: ApiKey;
  /** Make an earlier revision live again (default: the newest revision before the live one). */
  rollbackDeployment: Deployment;
  /** Queue a run of an experiment (a TRAIN job). */
  startRun: Run;
  /**
   * Replace the datasets of a version that no result refers to yet. A frozen version (one with results) is refused:
   * CONFLICT with extensions.reason = EVAL_SUITE_VERSION_FROZEN.
   */
  updateEvalSuiteVersion: EvalSuiteVersion;
  /** Point an existing teacher at another endpoint and/or key variable; it becomes an ENDPOINT teacher. ADMIN only. */
  updateTeacherEndpoint: Teacher;
};


export type MutationAddEvalSuiteVersionArgs = {
  input: AddEvalSuiteVersionInput;
};


export type MutationCancelRunArgs = {
  id: Scalars['ID']['input'];
};


export type MutationClaimJobArgs = {
  input: ClaimJobInput;
};


export type MutationCompleteBlobUploadArgs = {
  sha256: Scalars['String']['input'];
};


export type MutationCompleteJobArgs = {
  input: CompleteJobInput;
};


export type MutationCreateApiKeyArgs = {
  input: CreateApiKeyInput;
};


export type MutationCreateBlobUploadArgs = {
  input: CreateBlobUploadInput;
};


export type MutationCreateEvalSuiteArgs = {
  input: CreateEvalSuiteInput;
};


export type MutationCreateExperimentArgs = {
  input: CreateExperimentInput;
};


export type MutationDeployArgs = {
  input: DeployInput;
};


export type MutationFailJobArgs = {
  input: FailJobInput;
};


export type MutationFillTeacherCacheArgs = {
  input: FillTeacherCacheInput;
};


export type MutationHeartbeatArgs = {
  input: HeartbeatInput;
};


export type MutationImportDatasetArgs = {
  input: ImportDatasetInput;
};


export type MutationImportTeacherResponsesArgs = {
  input: ImportTeacherResponsesInput;
};


export type MutationQueueEvaluationArgs = {
  input: QueueEvaluationInput;
};


export type MutationQueueSuiteEvaluationArgs = {
  input: QueueSuiteEvaluationInput;
};


export type MutationQueueTeacherFillArgs = {
  input: FillTeacherCacheInput;
};


export type MutationRecordEvalExamplesArgs = {
  input: RecordEvalExamplesInput;
};


export type MutationRecordEvalResultArgs = {
  input: RecordEvalResultInput;
};


export type MutationRegisterArtifactArgs = {
  input: RegisterArtifactInput;
};


export type MutationRegisterTeacherArgs = {
  input: RegisterTeacherInput;
};


export type MutationRegisterWorkerArgs = {
  input: RegisterWorkerInput;
};


export type MutationReportMetricsArgs = {
  input: ReportMetricsInput;
};


export type MutationRetryRunArgs = {
  id: Scalars['ID']['input'];
};


export type MutationRevokeApiKeyArgs = {
  id: Scalars['ID']['input'];
};


export type MutationRollbackDeploymentArgs = {
  name: Scalars['String']['input'];
  revision?: InputMaybe<Scalars['Int']['input']>;
};


export type MutationStartRunArgs = {
  input: StartRunInput;
};


export type MutationUpdateEvalSuiteVersionArgs = {
  input: UpdateEvalSuiteVersionInput;
};


export type MutationUpdateTeacherEndpointArgs = {
  input: UpdateTeacherEndpointInput;
};

export type PageInfo = {
  __typename?: 'PageInfo';
  endCursor?: Maybe<Scalars['String']['output']>;
  hasNextPage: Scalars['Boolean']['output'];
};

export type Query = {
  __typename?: 'Query';
  apiKeys: Array<ApiKey>;
  artifact?: Maybe<Artifact>;
  artifacts: Array<Artifact>;
  /**
   * A short-lived URL that serves a blob's bytes to whoever holds it (no key needed: for <img src>, or downloads
   * too large for the API's body limits). Relative URLs are relative to the API. NOT_FOUND for an unknown blob.
   */
  blobDownloadUrl: BlobDownload;
  /** Aligned metric series and a table of final metrics for several runs, with the config keys that differ. */
  compareRuns: RunComparison;
  dataset?: Maybe<Dataset>;
  datasets: DatasetConnection;
  deployment?: Maybe<Deployment>;
  deployments: Array<Deployment>;
  /**
   * The per-example records of one subject on one dataset of a suite version (what it answered, the verdict), in the
   * order they were written. A resumed EVALUATE job reads them to score only what is missing.
   */
  evalExamples: EvalExampleConnection;
  evalSuite?: Maybe<EvalSuite>;
  evalSuites: Array<EvalSuite>;
  /**
   * The comparison table of a suite version (default: the newest): one row per subject, runs of one experiment grouped
   * into one row (mean over seeds with a 95% t interval), one column per dataset in suite order, then the average.
   * `subjects` default: every subject with a result on the version. NOT_FOUND for an unknown suite, version, run or
   * deployment.
   */
  evaluationTable: EvaluationTable;
  example?: Maybe<Example>;
  experiment?: Maybe<Experiment>;
  experiments: ExperimentConnection;
  /**
   * Ask a deployed student one question about one image (the same runtime as POST /v1/infer; for convenience:
   * the HTTP endpoint is the low-latency path). Keys with role INFERENCE or EDITOR (or ADMIN).
   */
  infer: InferResult;
  job?: Maybe<Job>;
  /** Jobs. A WORKER key sees only the jobs it holds. */
  jobs: Array<Job>;
  /** Who the caller is (any valid key). */
  me: ApiKey;
  run?: Maybe<Run>;
  runs: Array<Run>;
  teacher?: Maybe<Teacher>;
  /** Teacher responses of a dataset, flat and paginated (what a worker downloads). */
  teacherResponses: TeacherResponseConnection;
  teachers: Array<Teacher>;
  /** The trainer's config fields with their defaults (the paper's), ranges and docs. */
  trainerConfigSchema: Scalars['JSON']['output'];
  /** Registered workers. A WORKER key sees only the workers its own key registered. */
  workers: Array<Worker>;
};


export type QueryArtifactArgs = {
  id: Scalars['ID']['input'];
};


export type QueryArtifactsArgs = {
  kind?: InputMaybe<ArtifactKind>;
  runId?: InputMaybe<Scalars['ID']['input']>;
};


export type QueryBlobDownloadUrlArgs = {
  sha256: Scalars['String']['input'];
};


export type QueryCompareRunsArgs = {
  ids: Array<Scalars['ID']['input']>;
  names?: InputMaybe<Array<Scalars['String']['input']>>;
  points?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryDatasetArgs = {
  id: Scalars['ID']['input'];
};


export type QueryDatasetsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  name?: InputMaybe<Scalars['String']['input']>;
};


export type QueryDeploymentArgs = {
  name: Scalars['String']['input'];
};


export type QueryEvalExamplesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  entryId: Scalars['ID']['input'];
  first?: InputMaybe<Scalars['Int']['input']>;
  subjectId: Scalars['ID']['input'];
  versionId: Scalars['ID']['input'];
};


export type QueryEvalSuiteArgs = {
  name: Scalars['String']['input'];
};


export type QueryEvaluationTableArgs = {
  subjects?: InputMaybe<Array<EvalSubjectInput>>;
  suite: Scalars['String']['input'];
  version?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryExampleArgs = {
  id: Scalars['ID']['input'];
};


export type QueryExperimentArgs = {
  id: Scalars['ID']['input'];
};


export type QueryExperimentsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  datasetId?: InputMaybe<Scalars['ID']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryInferArgs = {
  input: InferInput;
};


export type QueryJobArgs = {
  id: Scalars['ID']['input'];
};


export type QueryJobsArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
  kind?: InputMaybe<JobKind>;
  status?: InputMaybe<JobStatus>;
};


export type QueryRunArgs = {
  id: Scalars['ID']['input'];
};


export type QueryRunsArgs = {
  experimentId?: InputMaybe<Scalars['ID']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<RunStatus>;
};


export type QueryTeacherArgs = {
  name: Scalars['String']['input'];
};


export type QueryTeacherResponsesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  datasetId: Scalars['ID']['input'];
  first?: InputMaybe<Scalars['Int']['input']>;
  teachers?: InputMaybe<Array<Scalars['String']['input']>>;
};

export type QueueEvaluationInput = {
  artifactId?: InputMaybe<Scalars['ID']['input']>;
  datasetId: Scalars['ID']['input'];
  runId?: InputMaybe<Scalars['ID']['input']>;
  split?: InputMaybe<Split>;
};

export type QueueSuiteEvaluationInput = {
  priority?: InputMaybe<Scalars['Int']['input']>;
  subject: EvalSubjectInput;
  suite: Scalars['String']['input'];
  /** null: the newest version */
  version?: InputMaybe<Scalars['Int']['input']>;
};

export type RecordEvalExamplesInput = {
  attempt: Scalars['Int']['input'];
  entryId: Scalars['ID']['input'];
  examples: Array<EvalExampleInput>;
  jobId: Scalars['ID']['input'];
  workerId: Scalars['ID']['input'];
};

export type RecordEvalExamplesResult = {
  __typename?: 'RecordEvalExamplesResult';
  duplicates: Scalars['Int']['output'];
  written: Scalars['Int']['output'];
};

export type RecordEvalResultInput = {
  /** Fraction correct, 0..1. */
  accuracy: Scalars['Float']['input'];
  /** The lease's fencing token: Job.attempts as claimJob returned it. */
  attempt: Scalars['Int']['input'];
  /** The EvalSuiteDataset scored (an entryId of the job's payload). */
  entryId: Scalars['ID']['input'];
  jobId: Scalars['ID']['input'];
  meanResponseLength?: InputMaybe<Scalars['Float']['input']>;
  /** Examples scored. */
  n: Scalars['Int']['input'];
  workerId: Scalars['ID']['input'];
};

export type RegisterArtifactInput = {
  /** The lease's fencing token: Job.attempts as claimJob returned it (a lease lost and claimed again is refused: CONFLICT). */
  attempt?: InputMaybe<Scalars['Int']['input']>;
  blobSha256: Scalars['String']['input'];
  kind: ArtifactKind;
  metadata?: InputMaybe<Scalars['JSON']['input']>;
  name: Scalars['String']['input'];
  runId?: InputMaybe<Scalars['ID']['input']>;
  /**
   * The worker holding the run's current lease, registered by the calling key. Required for a CHECKPOINT, for a
   * BUNDLE with a runId, and for any artifact a WORKER key attaches to a run; no other caller may register those.
   */
  workerId?: InputMaybe<Scalars['ID']['input']>;
};

export type RegisterTeacherInput = {
  /** Name of the environment variable that holds the endpoint's key. The key itself is never sent or stored. */
  apiKeyEnv?: InputMaybe<Scalars['String']['input']>;
  /** OpenAI-compatible base URL (ENDPOINT teachers), e.g. http://host:8000/v1 */
  baseUrl?: InputMaybe<Scalars['String']['input']>;
  kind: TeacherKind;
  model: Scalars['String']['input'];
  name: Scalars['String']['input'];
};

export type RegisterWorkerInput = {
  /**
   * What the worker has, e.g. {"device": "cuda", "gpus": 2, "gpuMemoryGb": [80, 80], "bf16": true}. gpus (a
   * non-negative integer; absent = 0) decides which jobs it may claim: a job needing N GPUs goes only to a worker
   * with at least N. The rest is shown to operators.
   */
  capabilities?: InputMaybe<Scalars['JSON']['input']>;
  name: Scalars['String']['input'];
};

export type ReportMetricsInput = {
  /** The lease's fencing token: Job.attempts as claimJob returned it. */
  attempt: Scalars['Int']['input'];
  points: Array<MetricInput>;
  runId: Scalars['ID']['input'];
  workerId: Scalars['ID']['input'];
};

export type ReportMetricsResult = {
  __typename?: 'ReportMetricsResult';
  duplicates: Scalars['Int']['output'];
  written: Scalars['Int']['output'];
};

export type Role =
  | 'ADMIN'
  | 'EDITOR'
  | 'INFERENCE'
  | 'VIEWER'
  | 'WORKER';

export type Run = {
  __typename?: 'Run';
  artifacts: Array<Artifact>;
  createdAt: Scalars['DateTime']['output'];
  error?: Maybe<Scalars['String']['output']>;
  experiment: Experiment;
  finishedAt?: Maybe<Scalars['DateTime']['output']>;
  id: Scalars['ID']['output'];
  /** The run's current job. A WORKER key sees it only while one of its workers holds the lease (else null). */
  job?: Maybe<Job>;
  /** The CHECKPOINT registered last (server order) by the worker holding the run's lease: what a resumed run starts from. */
  latestCheckpoint?: Maybe<Artifact>;
  metricNames: Array<Scalars['String']['output']>;
  /** Series by name (all when names is empty), within a step range, downsampled to at most `points` per series (keeping each bucket's extremes). */
  metrics: Array<MetricSeries>;
  /** step / totalSteps */
  progress: Scalars['Float']['output'];
  seed: Scalars['Int']['output'];
  startedAt?: Maybe<Scalars['DateTime']['output']>;
  status: RunStatus;
  step: Scalars['Int']['output'];
  totalSteps: Scalars['Int']['output'];
};


export type RunArtifactsArgs = {
  kind?: InputMaybe<ArtifactKind>;
};


export type RunMetricsArgs = {
  fromStep?: InputMaybe<Scalars['Int']['input']>;
  names?: InputMaybe<Array<Scalars['String']['input']>>;
  points?: InputMaybe<Scalars['Int']['input']>;
  toStep?: InputMaybe<Scalars['Int']['input']>;
};

export type RunComparison = {
  __typename?: 'RunComparison';
  /** Config keys (dotted) whose values differ between the runs; seed included. */
  differingConfig: Array<ConfigDifference>;
  /** Each run's final value of every eval/ metric (and reward/, policy/ at the last step). */
  finals: Array<RunFinals>;
  runs: Array<Run>;
  /** For each metric name, each run's series (downsampled to the same budget). */
  series: Array<ComparedSeries>;
};

export type RunFinals = {
  __typename?: 'RunFinals';
  metrics: Array<FinalMetric>;
  runId: Scalars['ID']['output'];
};

export type RunSeries = {
  __typename?: 'RunSeries';
  points: Array<MetricPoint>;
  runId: Scalars['ID']['output'];
};

export type RunStatus =
  | 'CANCELLED'
  | 'FAILED'
  | 'QUEUED'
  | 'RUNNING'
  | 'SUCCEEDED';

export type Split =
  | 'test'
  | 'train'
  | 'val';

export type SplitCount = {
  __typename?: 'SplitCount';
  count: Scalars['Int']['output'];
  split: Split;
};

export type StartRunInput = {
  experimentId: Scalars['ID']['input'];
  maxAttempts?: InputMaybe<Scalars['Int']['input']>;
  priority?: InputMaybe<Scalars['Int']['input']>;
  seed?: InputMaybe<Scalars['Int']['input']>;
};

/** The student family: the compact built-in one (model.py) or a Hugging Face vision-language model. */
export type StudentFamily =
  | 'BUILTIN'
  | 'HF';

/**
 * Which student an experiment trains, read from its validated config (config.student): one description for both
 * families, so lists and comparisons show every experiment the same way.
 */
export type StudentInfo = {
  __typename?: 'StudentInfo';
  /** HF, RIL: the discriminator's language backbone: copy (the paper's) | lora. */
  discBackbone: Scalars['String']['output'];
  /** HF: auto | bf16 | fp32 (BUILTIN trains in fp32: auto). */
  dtype: Scalars['String']['output'];
  family: StudentFamily;
  gradientCheckpointing: Scalars['Boolean']['output'];
  /** LoRA adapter rank (HF; 0 = full fine-tuning, and always 0 for BUILTIN). */
  loraRank: Scalars['Int']['output'];
  /** BUILTIN: the size (nano | small | base). HF: the local model directory or hub id (org/name) the workers load. */
  model: Scalars['String']['output'];
  /** HF: how the student is placed across a run's ranks: none (a whole copy on every rank) | fsdp (FSDP shards its weights across the ranks). Always none for BUILTIN. */
  sharding: Scalars['String']['output'];
};

export type Teacher = {
  __typename?: 'Teacher';
  apiKeyEnv?: Maybe<Scalars['String']['output']>;
  baseUrl?: Maybe<Scalars['String']['output']>;
  coverage: TeacherCoverage;
  createdAt: Scalars['DateTime']['output'];
  id: Scalars['ID']['output'];
  kind: TeacherKind;
  model: Scalars['String']['output'];
  name: Scalars['String']['output'];
};


export type TeacherCoverageArgs = {
  datasetId: Scalars['ID']['input'];
  minSamples?: InputMaybe<Scalars['Int']['input']>;
};

export type TeacherCoverage = {
  __typename?: 'TeacherCoverage';
  /** Examples in the dataset with at least minSamples cached responses from this teacher. */
  covered: Scalars['Int']['output'];
  responses: Scalars['Int']['output'];
  teacher: Teacher;
  total: Scalars['Int']['output'];
};

export type TeacherKind =
  | 'ENDPOINT'
  | 'IMPORTED';

export type TeacherResponse = {
  __typename?: 'TeacherResponse';
  example: Example;
  id: Scalars['ID']['output'];
  sample: Scalars['Int']['output'];
  teacher: Teacher;
  text: Scalars['String']['output'];
};

export type TeacherResponseConnection = {
  __typename?: 'TeacherResponseConnection';
  edges: Array<TeacherResponseEdge>;
  pageInfo: PageInfo;
  totalCount: Scalars['Int']['output'];
};

export type TeacherResponseEdge = {
  __typename?: 'TeacherResponseEdge';
  cursor: Scalars['String']['output'];
  node: TeacherResponse;
};

export type UpdateEvalSuiteVersionInput = {
  datasets: Array<EvalSuiteDatasetInput>;
  suite: Scalars['String']['input'];
  version: Scalars['Int']['input'];
};

export type UpdateTeacherEndpointInput = {
  /** Name of the environment variable that holds the endpoint's key (listed in RIL_SECRET_ENV_ALLOWLIST); null: no key. */
  apiKeyEnv?: InputMaybe<Scalars['String']['input']>;
  /** OpenAI-compatible base URL, e.g. https://host/v1 (the same checks as registerTeacher) */
  baseUrl: Scalars['String']['input'];
  name: Scalars['String']['input'];
};

export type Worker = {
  __typename?: 'Worker';
  capabilities: Scalars['JSON']['output'];
  createdAt: Scalars['DateTime']['output'];
  /** GPUs the worker registered with (capabilities.gpus; 0 for a CPU worker): what the queue matches jobs against. */
  gpus: Scalars['Int']['output'];
  id: Scalars['ID']['output'];
  lastSeenAt: Scalars['DateTime']['output'];
  name: Scalars['String']['output'];
  /** The transformers version it registered with (capabilities.transformers); null: it cannot take hf students' jobs. */
  transformers?: Maybe<Scalars['String']['output']>;
};

export type WithIndex<TObject> = TObject & Record<string, any>;
export type ResolversObject<TObject> = WithIndex<TObject>;

export type ResolverTypeWrapper<T> = Promise<T> | T;


export type ResolverWithResolve<TResult, TParent, TContext, TArgs> = {
  resolve: ResolverFn<TResult, TParent, TContext, TArgs>;
};
export type Resolver<TResult, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = ResolverFn<TResult, TParent, TContext, TArgs> | ResolverWithResolve<TResult, TParent, TContext, TArgs>;

export type ResolverFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => Promise<TResult> | TResult;

export type SubscriptionSubscribeFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => AsyncIterable<TResult> | Promise<AsyncIterable<TResult>>;

export type SubscriptionResolveFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;

export interface SubscriptionSubscriberObject<TResult, TKey extends string, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<{ [key in TKey]: TResult }, TParent, TContext, TArgs>;
  resolve?: SubscriptionResolveFn<TResult, { [key in TKey]: TResult }, TContext, TArgs>;
}

export interface SubscriptionResolverObject<TResult, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<any, TParent, TContext, TArgs>;
  resolve: SubscriptionResolveFn<TResult, any, TContext, TArgs>;
}

export type SubscriptionObject<TResult, TKey extends string, TParent, TContext, TArgs> =
  | SubscriptionSubscriberObject<TResult, TKey, TParent, TContext, TArgs>
  | SubscriptionResolverObject<TResult, TParent, TContext, TArgs>;

export type SubscriptionResolver<TResult, TKey extends string, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> =
  | ((...args: any[]) => SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>)
  | SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>;

export type TypeResolveFn<TTypes, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (
  parent: TParent,
  context: TContext,
  info: GraphQLResolveInfo
) => Maybe<TTypes> | Promise<Maybe<TTypes>>;

export type IsTypeOfResolverFn<T = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (obj: T, context: TContext, info: GraphQLResolveInfo) => boolean | Promise<boolean>;

export type NextResolverFn<T> = () => Promise<T>;

export type DirectiveResolverFn<TResult = Record<PropertyKey, never>, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = (
  next: NextResolverFn<TResult>,
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;





/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = ResolversObject<{
  AddEvalSuiteVersionInput: AddEvalSuiteVersionInput;
  Algorithm: Algorithm;
  AnswerCount: ResolverTypeWrapper<AnswerCount>;
  ApiKey: ResolverTypeWrapper<ApiKeyModel>;
  Artifact: ResolverTypeWrapper<ArtifactModel>;
  ArtifactKind: ArtifactKind;
  Blob: ResolverTypeWrapper<BlobModel>;
  BlobDownload: ResolverTypeWrapper<BlobDownload>;
  BlobUpload: ResolverTypeWrapper<BlobUpload>;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
  ClaimJobInput: ClaimJobInput;
  ComparedSeries: ResolverTypeWrapper<ComparedSeries>;
  CompleteJobInput: CompleteJobInput;
  ConfigDifference: ResolverTypeWrapper<ConfigDifference>;
  CreateApiKeyInput: CreateApiKeyInput;
  CreateBlobUploadInput: CreateBlobUploadInput;
  CreateEvalSuiteInput: CreateEvalSuiteInput;
  CreateExperimentInput: CreateExperimentInput;
  CreatedApiKey: ResolverTypeWrapper<Omit<CreatedApiKey, 'key'> & { key: ResolversTypes['ApiKey'] }>;
  Dataset: ResolverTypeWrapper<DatasetModel>;
  DatasetConnection: ResolverTypeWrapper<Omit<DatasetConnection, 'edges'> & { edges: Array<ResolversTypes['DatasetEdge']> }>;
  DatasetEdge: ResolverTypeWrapper<Omit<DatasetEdge, 'node'> & { node: ResolversTypes['Dataset'] }>;
  DatasetStats: ResolverTypeWrapper<DatasetStatsModel>;
  DateTime: ResolverTypeWrapper<Scalars['DateTime']['output']>;
  DeployInput: DeployInput;
  Deployment: ResolverTypeWrapper<DeploymentModel>;
  DeploymentRevision: ResolverTypeWrapper<DeploymentRevisionModel>;
  DeploymentStatus: DeploymentStatus;
  EvalExampleConnection: ResolverTypeWrapper<Omit<EvalExampleConnection, 'edges'> & { edges: Array<ResolversTypes['EvalExampleEdge']> }>;
  EvalExampleEdge: ResolverTypeWrapper<Omit<EvalExampleEdge, 'node'> & { node: ResolversTypes['EvalExampleRecord'] }>;
  EvalExampleInput: EvalExampleInput;
  EvalExampleRecord: ResolverTypeWrapper<EvalExampleRecordModel>;
  EvalJudge: EvalJudge;
  EvalResult: ResolverTypeWrapper<EvalResultModel>;
  EvalSubject: ResolverTypeWrapper<EvalSubjectModel>;
  EvalSubjectInput: EvalSubjectInput;
  EvalSubjectKind: EvalSubjectKind;
  EvalSuite: ResolverTypeWrapper<EvalSuiteModel>;
  EvalSuiteDataset: ResolverTypeWrapper<EvalSuiteDatasetModel>;
  EvalSuiteDatasetInput: EvalSuiteDatasetInput;
  EvalSuiteVersion: ResolverTypeWrapper<EvalSuiteVersionModel>;
  EvaluationCell: ResolverTypeWrapper<EvaluationCell>;
  EvaluationColumn: ResolverTypeWrapper<EvaluationColumnModel>;
  EvaluationRow: ResolverTypeWrapper<EvaluationRowModel>;
  EvaluationTable: ResolverTypeWrapper<EvaluationTableModel>;
  Example: ResolverTypeWrapper<ExampleModel>;
  ExampleConnection: ResolverTypeWrapper<Omit<ExampleConnection, 'edges'> & { edges: Array<ResolversTypes['ExampleEdge']> }>;
  ExampleEdge: ResolverTypeWrapper<Omit<ExampleEdge, 'node'> & { node: ResolversTypes['Example'] }>;
  Experiment: ResolverTypeWrapper<ExperimentModel>;
  ExperimentConnection: ResolverTypeWrapper<Omit<ExperimentConnection, 'edges'> & { edges: Array<ResolversTypes['ExperimentEdge']> }>;
  ExperimentEdge: ResolverTypeWrapper<Omit<ExperimentEdge, 'node'> & { node: ResolversTypes['Experiment'] }>;
  FailJobInput: FailJobInput;
  FillTeacherCacheInput: FillTeacherCacheInput;
  FinalMetric: ResolverTypeWrapper<FinalMetric>;
  Float: ResolverTypeWrapper<Scalars['Float']['output']>;
  HeartbeatInput: HeartbeatInput;
  HeartbeatResult: ResolverTypeWrapper<HeartbeatResult>;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  ImportDatasetInput: ImportDatasetInput;
  ImportTeacherResponsesInput: ImportTeacherResponsesInput;
  ImportTeacherResponsesResult: ResolverTypeWrapper<Omit<ImportTeacherResponsesResult, 'teachers'> & { teachers: Array<ResolversTypes['Teacher']> }>;
  InferInput: InferInput;
  InferResult: ResolverTypeWrapper<InferResult>;
  InferTimings: ResolverTypeWrapper<InferTimings>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  JSON: ResolverTypeWrapper<Scalars['JSON']['output']>;
  Job: ResolverTypeWrapper<JobModel>;
  JobKind: JobKind;
  JobRequirements: ResolverTypeWrapper<JobRequirements>;
  JobStatus: JobStatus;
  LatencyStats: ResolverTypeWrapper<LatencyStats>;
  MetricInput: MetricInput;
  MetricPoint: ResolverTypeWrapper<MetricPoint>;
  MetricSeries: ResolverTypeWrapper<MetricSeries>;
  Mutation: ResolverTypeWrapper<Record<PropertyKey, never>>;
  PageInfo: ResolverTypeWrapper<PageInfo>;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  QueueEvaluationInput: QueueEvaluationInput;
  QueueSuiteEvaluationInput: QueueSuiteEvaluationInput;
  RecordEvalExamplesInput: RecordEvalExamplesInput;
  RecordEvalExamplesResult: ResolverTypeWrapper<RecordEvalExamplesResult>;
  RecordEvalResultInput: RecordEvalResultInput;
  RegisterArtifactInput: RegisterArtifactInput;
  RegisterTeacherInput: RegisterTeacherInput;
  RegisterWorkerInput: RegisterWorkerInput;
  ReportMetricsInput: ReportMetricsInput;
  ReportMetricsResult: ResolverTypeWrapper<ReportMetricsResult>;
  Role: Role;
  Run: ResolverTypeWrapper<RunModel>;
  RunComparison: ResolverTypeWrapper<Omit<RunComparison, 'runs'> & { runs: Array<ResolversTypes['Run']> }>;
  RunFinals: ResolverTypeWrapper<RunFinals>;
  RunSeries: ResolverTypeWrapper<RunSeries>;
  RunStatus: RunStatus;
  Split: Split;
  SplitCount: ResolverTypeWrapper<SplitCount>;
  StartRunInput: StartRunInput;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  StudentFamily: StudentFamily;
  StudentInfo: ResolverTypeWrapper<StudentInfo>;
  Teacher: ResolverTypeWrapper<TeacherModel>;
  TeacherCoverage: ResolverTypeWrapper<TeacherCoverageModel>;
  TeacherKind: TeacherKind;
  TeacherResponse: ResolverTypeWrapper<TeacherResponseModel>;
  TeacherResponseConnection: ResolverTypeWrapper<Omit<TeacherResponseConnection, 'edges'> & { edges: Array<ResolversTypes['TeacherResponseEdge']> }>;
  TeacherResponseEdge: ResolverTypeWrapper<Omit<TeacherResponseEdge, 'node'> & { node: ResolversTypes['TeacherResponse'] }>;
  UpdateEvalSuiteVersionInput: UpdateEvalSuiteVersionInput;
  UpdateTeacherEndpointInput: UpdateTeacherEndpointInput;
  Worker: ResolverTypeWrapper<WorkerModel>;
}>;

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = ResolversObject<{
  AddEvalSuiteVersionInput: AddEvalSuiteVersionInput;
  AnswerCount: AnswerCount;
  ApiKey: ApiKeyModel;
  Artifact: ArtifactModel;
  Blob: BlobModel;
  BlobDownload: BlobDownload;
  BlobUpload: BlobUpload;
  Boolean: Scalars['Boolean']['output'];
  ClaimJobInput: ClaimJobInput;
  ComparedSeries: ComparedSeries;
  CompleteJobInput: CompleteJobInput;
  ConfigDifference: ConfigDifference;
  CreateApiKeyInput: CreateApiKeyInput;
  CreateBlobUploadInput: CreateBlobUploadInput;
  CreateEvalSuiteInput: CreateEvalSuiteInput;
  CreateExperimentInput: CreateExperimentInput;
  CreatedApiKey: Omit<CreatedApiKey, 'key'> & { key: ResolversParentTypes['ApiKey'] };
  Dataset: DatasetModel;
  DatasetConnection: Omit<DatasetConnection, 'edges'> & { edges: Array<ResolversParentTypes['DatasetEdge']> };
  DatasetEdge: Omit<DatasetEdge, 'node'> & { node: ResolversParentTypes['Dataset'] };
  DatasetStats: DatasetStatsModel;
  DateTime: Scalars['DateTime']['output'];
  DeployInput: DeployInput;
  Deployment: DeploymentModel;
  DeploymentRevision: DeploymentRevisionModel;
  EvalExampleConnection: Omit<EvalExampleConnection, 'edges'> & { edges: Array<ResolversParentTypes['EvalExampleEdge']> };
  EvalExampleEdge: Omit<EvalExampleEdge, 'node'> & { node: ResolversParentTypes['EvalExampleRecord'] };
  EvalExampleInput: EvalExampleInput;
  EvalExampleRecord: EvalExampleRecordModel;
  EvalResult: EvalResultModel;
  EvalSubject: EvalSubjectModel;
  EvalSubjectInput: EvalSubjectInput;
  EvalSuite: EvalSuiteModel;
  EvalSuiteDataset: EvalSuiteDatasetModel;
  EvalSuiteDatasetInput: EvalSuiteDatasetInput;
  EvalSuiteVersion: EvalSuiteVersionModel;
  EvaluationCell: EvaluationCell;
  EvaluationColumn: EvaluationColumnModel;
  EvaluationRow: EvaluationRowModel;
  EvaluationTable: EvaluationTableModel;
  Example: ExampleModel;
  ExampleConnection: Omit<ExampleConnection, 'edges'> & { edges: Array<ResolversParentTypes['ExampleEdge']> };
  ExampleEdge: Omit<ExampleEdge, 'node'> & { node: ResolversParentTypes['Example'] };
  Experiment: ExperimentModel;
  ExperimentConnection: Omit<ExperimentConnection, 'edges'> & { edges: Array<ResolversParentTypes['ExperimentEdge']> };
  ExperimentEdge: Omit<ExperimentEdge, 'node'> & { node: ResolversParentTypes['Experiment'] };
  FailJobInput: FailJobInput;
  FillTeacherCacheInput: FillTeacherCacheInput;
  FinalMetric: FinalMetric;
  Float: Scalars['Float']['output'];
  HeartbeatInput: HeartbeatInput;
  HeartbeatResult: HeartbeatResult;
  ID: Scalars['ID']['output'];
  ImportDatasetInput: ImportDatasetInput;
  ImportTeacherResponsesInput: ImportTeacherResponsesInput;
  ImportTeacherResponsesResult: Omit<ImportTeacherResponsesResult, 'teachers'> & { teachers: Array<ResolversParentTypes['Teacher']> };
  InferInput: InferInput;
  InferResult: InferResult;
  InferTimings: InferTimings;
  Int: Scalars['Int']['output'];
  JSON: Scalars['JSON']['output'];
  Job: JobModel;
  JobRequirements: JobRequirements;
  LatencyStats: LatencyStats;
  MetricInput: MetricInput;
  MetricPoint: MetricPoint;
  MetricSeries: MetricSeries;
  Mutation: Record<PropertyKey, never>;
  PageInfo: PageInfo;
  Query: Record<PropertyKey, never>;
  QueueEvaluationInput: QueueEvaluationInput;
  QueueSuiteEvaluationInput: QueueSuiteEvaluationInput;
  RecordEvalExamplesInput: RecordEvalExamplesInput;
  RecordEvalExamplesResult: RecordEvalExamplesResult;
  RecordEvalResultInput: RecordEvalResultInput;
  RegisterArtifactInput: RegisterArtifactInput;
  RegisterTeacherInput: RegisterTeacherInput;
  RegisterWorkerInput: RegisterWorkerInput;
  ReportMetricsInput: ReportMetricsInput;
  ReportMetricsResult: ReportMetricsResult;
  Run: RunModel;
  RunComparison: Omit<RunComparison, 'runs'> & { runs: Array<ResolversParentTypes['Run']> };
  RunFinals: RunFinals;
  RunSeries: RunSeries;
  SplitCount: SplitCount;
  StartRunInput: StartRunInput;
  String: Scalars['String']['output'];
  StudentInfo: StudentInfo;
  Teacher: TeacherModel;
  TeacherCoverage: TeacherCoverageModel;
  TeacherResponse: TeacherResponseModel;
  TeacherResponseConnection: Omit<TeacherResponseConnection, 'edges'> & { edges: Array<ResolversParentTypes['TeacherResponseEdge']> };
  TeacherResponseEdge: Omit<TeacherResponseEdge, 'node'> & { node: ResolversParentTypes['TeacherResponse'] };
  UpdateEvalSuiteVersionInput: UpdateEvalSuiteVersionInput;
  UpdateTeacherEndpointInput: UpdateTeacherEndpointInput;
  Worker: WorkerModel;
}>;

export type AnswerCountResolvers<ContextType = Context, ParentType extends ResolversParentTypes['AnswerCount'] = ResolversParentTypes['AnswerCount']> = ResolversObject<{
  answer?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  count?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type ApiKeyResolvers<ContextType = Context, ParentType extends ResolversParentTypes['ApiKey'] = ResolversParentTypes['ApiKey']> = ResolversObject<{
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  lastUsedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  prefix?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  revokedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  role?: Resolver<ResolversTypes['Role'], ParentType, ContextType>;
}>;

export type ArtifactResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Artifact'] = ResolversParentTypes['Artifact']> = ResolversObject<{
  blobSha256?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['ArtifactKind'], ParentType, ContextType>;
  metadata?: Resolver<ResolversTypes['JSON'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  runId?: Resolver<Maybe<ResolversTypes['ID']>, ParentType, ContextType>;
  size?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type BlobResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Blob'] = ResolversParentTypes['Blob']> = ResolversObject<{
  contentType?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  sha256?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  size?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type BlobDownloadResolvers<ContextType = Context, ParentType extends ResolversParentTypes['BlobDownload'] = ResolversParentTypes['BlobDownload']> = ResolversObject<{
  expiresAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  url?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type BlobUploadResolvers<ContextType = Context, ParentType extends ResolversParentTypes['BlobUpload'] = ResolversParentTypes['BlobUpload']> = ResolversObject<{
  alreadyExists?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  expiresAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  headers?: Resolver<ResolversTypes['JSON'], ParentType, ContextType>;
  method?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  sha256?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  url?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type ComparedSeriesResolvers<ContextType = Context, ParentType extends ResolversParentTypes['ComparedSeries'] = ResolversParentTypes['ComparedSeries']> = ResolversObject<{
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  runs?: Resolver<Array<ResolversTypes['RunSeries']>, ParentType, ContextType>;
}>;

export type ConfigDifferenceResolvers<ContextType = Context, ParentType extends ResolversParentTypes['ConfigDifference'] = ResolversParentTypes['ConfigDifference']> = ResolversObject<{
  key?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  values?: Resolver<Array<Maybe<ResolversTypes['JSON']>>, ParentType, ContextType>;
}>;

export type CreatedApiKeyResolvers<ContextType = Context, ParentType extends ResolversParentTypes['CreatedApiKey'] = ResolversParentTypes['CreatedApiKey']> = ResolversObject<{
  key?: Resolver<ResolversTypes['ApiKey'], ParentType, ContextType>;
  secret?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type DatasetResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Dataset'] = ResolversParentTypes['Dataset']> = ResolversObject<{
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  description?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  exampleCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  examples?: Resolver<ResolversTypes['ExampleConnection'], ParentType, ContextType, RequireFields<DatasetExamplesArgs, 'first'>>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  stats?: Resolver<ResolversTypes['DatasetStats'], ParentType, ContextType>;
  teacherCoverage?: Resolver<Array<ResolversTypes['TeacherCoverage']>, ParentType, ContextType, RequireFields<DatasetTeacherCoverageArgs, 'minSamples'>>;
  version?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type DatasetConnectionResolvers<ContextType = Context, ParentType extends ResolversParentTypes['DatasetConnection'] = ResolversParentTypes['DatasetConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['DatasetEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
  totalCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type DatasetEdgeResolvers<ContextType = Context, ParentType extends ResolversParentTypes['DatasetEdge'] = ResolversParentTypes['DatasetEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Dataset'], ParentType, ContextType>;
}>;

export type DatasetStatsResolvers<ContextType = Context, ParentType extends ResolversParentTypes['DatasetStats'] = ResolversParentTypes['DatasetStats']> = ResolversObject<{
  splits?: Resolver<Array<ResolversTypes['SplitCount']>, ParentType, ContextType>;
  topAnswers?: Resolver<Array<ResolversTypes['AnswerCount']>, ParentType, ContextType, RequireFields<DatasetStatsTopAnswersArgs, 'limit'>>;
}>;

export interface DateTimeScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['DateTime'], any> {
  name: 'DateTime';
}

export type DeploymentResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Deployment'] = ResolversParentTypes['Deployment']> = ResolversObject<{
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  error?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  latency?: Resolver<ResolversTypes['LatencyStats'], ParentType, ContextType>;
  liveRevision?: Resolver<Maybe<ResolversTypes['DeploymentRevision']>, ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  revisions?: Resolver<Array<ResolversTypes['DeploymentRevision']>, ParentType, ContextType>;
  status?: Resolver<ResolversTypes['DeploymentStatus'], ParentType, ContextType>;
  updatedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
}>;

export type DeploymentRevisionResolvers<ContextType = Context, ParentType extends ResolversParentTypes['DeploymentRevision'] = ResolversParentTypes['DeploymentRevision']> = ResolversObject<{
  artifact?: Resolver<ResolversTypes['Artifact'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  live?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  note?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  revision?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  variant?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type EvalExampleConnectionResolvers<ContextType = Context, ParentType extends ResolversParentTypes['EvalExampleConnection'] = ResolversParentTypes['EvalExampleConnection']> = ResolversObject<{
  correctCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  edges?: Resolver<Array<ResolversTypes['EvalExampleEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
  totalCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type EvalExampleEdgeResolvers<ContextType = Context, ParentType extends ResolversParentTypes['EvalExampleEdge'] = ResolversParentTypes['EvalExampleEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['EvalExampleRecord'], ParentType, ContextType>;
}>;

export type EvalExampleRecordResolvers<ContextType = Context, ParentType extends ResolversParentTypes['EvalExampleRecord'] = ResolversParentTypes['EvalExampleRecord']> = ResolversObject<{
  correct?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  example?: Resolver<ResolversTypes['Example'], ParentType, ContextType>;
  externalId?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  jobId?: Resolver<Maybe<ResolversTypes['ID']>, ParentType, ContextType>;
  response?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  responseTokens?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
}>;

export type EvalResultResolvers<ContextType = Context, ParentType extends ResolversParentTypes['EvalResult'] = ResolversParentTypes['EvalResult']> = ResolversObject<{
  accuracy?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  entry?: Resolver<ResolversTypes['EvalSuiteDataset'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  jobId?: Resolver<Maybe<ResolversTypes['ID']>, ParentType, ContextType>;
  meanResponseLength?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  n?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  subject?: Resolver<ResolversTypes['EvalSubject'], ParentType, ContextType>;
  updatedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
}>;

export type EvalSubjectResolvers<ContextType = Context, ParentType extends ResolversParentTypes['EvalSubject'] = ResolversParentTypes['EvalSubject']> = ResolversObject<{
  apiKeyEnv?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  deployment?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  endpoint?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['EvalSubjectKind'], ParentType, ContextType>;
  label?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  model?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  revision?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  run?: Resolver<Maybe<ResolversTypes['Run']>, ParentType, ContextType>;
  teacher?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type EvalSuiteResolvers<ContextType = Context, ParentType extends ResolversParentTypes['EvalSuite'] = ResolversParentTypes['EvalSuite']> = ResolversObject<{
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  description?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  latest?: Resolver<ResolversTypes['EvalSuiteVersion'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  version?: Resolver<Maybe<ResolversTypes['EvalSuiteVersion']>, ParentType, ContextType, RequireFields<EvalSuiteVersionArgs, 'version'>>;
  versions?: Resolver<Array<ResolversTypes['EvalSuiteVersion']>, ParentType, ContextType>;
}>;

export type EvalSuiteDatasetResolvers<ContextType = Context, ParentType extends ResolversParentTypes['EvalSuiteDataset'] = ResolversParentTypes['EvalSuiteDataset']> = ResolversObject<{
  dataset?: Resolver<ResolversTypes['Dataset'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  judge?: Resolver<ResolversTypes['EvalJudge'], ParentType, ContextType>;
  judgeApiKeyEnv?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  judgeEndpoint?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  judgeModel?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  label?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  position?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  sampleLimit?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  split?: Resolver<ResolversTypes['Split'], ParentType, ContextType>;
}>;

export type EvalSuiteVersionResolvers<ContextType = Context, ParentType extends ResolversParentTypes['EvalSuiteVersion'] = ResolversParentTypes['EvalSuiteVersion']> = ResolversObject<{
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  datasets?: Resolver<Array<ResolversTypes['EvalSuiteDataset']>, ParentType, ContextType>;
  frozen?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  results?: Resolver<Array<ResolversTypes['EvalResult']>, ParentType, ContextType, Partial<EvalSuiteVersionResultsArgs>>;
  suite?: Resolver<ResolversTypes['EvalSuite'], ParentType, ContextType>;
  version?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type EvaluationCellResolvers<ContextType = Context, ParentType extends ResolversParentTypes['EvaluationCell'] = ResolversParentTypes['EvaluationCell']> = ResolversObject<{
  best?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  halfWidth?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  high?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  low?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  mean?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  n?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type EvaluationColumnResolvers<ContextType = Context, ParentType extends ResolversParentTypes['EvaluationColumn'] = ResolversParentTypes['EvaluationColumn']> = ResolversObject<{
  entry?: Resolver<Maybe<ResolversTypes['EvalSuiteDataset']>, ParentType, ContextType>;
  label?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type EvaluationRowResolvers<ContextType = Context, ParentType extends ResolversParentTypes['EvaluationRow'] = ResolversParentTypes['EvaluationRow']> = ResolversObject<{
  cells?: Resolver<Array<ResolversTypes['EvaluationCell']>, ParentType, ContextType>;
  experiment?: Resolver<Maybe<ResolversTypes['Experiment']>, ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['EvalSubjectKind'], ParentType, ContextType>;
  label?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  subjects?: Resolver<Array<ResolversTypes['EvalSubject']>, ParentType, ContextType>;
}>;

export type EvaluationTableResolvers<ContextType = Context, ParentType extends ResolversParentTypes['EvaluationTable'] = ResolversParentTypes['EvaluationTable']> = ResolversObject<{
  columns?: Resolver<Array<ResolversTypes['EvaluationColumn']>, ParentType, ContextType>;
  rows?: Resolver<Array<ResolversTypes['EvaluationRow']>, ParentType, ContextType>;
  suite?: Resolver<ResolversTypes['EvalSuite'], ParentType, ContextType>;
  version?: Resolver<ResolversTypes['EvalSuiteVersion'], ParentType, ContextType>;
}>;

export type ExampleResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Example'] = ResolversParentTypes['Example']> = ResolversObject<{
  answer?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  dataset?: Resolver<ResolversTypes['Dataset'], ParentType, ContextType>;
  externalId?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  imageSha256?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  imageUrl?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  question?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  split?: Resolver<ResolversTypes['Split'], ParentType, ContextType>;
  teacherResponses?: Resolver<Array<ResolversTypes['TeacherResponse']>, ParentType, ContextType, Partial<ExampleTeacherResponsesArgs>>;
}>;

export type ExampleConnectionResolvers<ContextType = Context, ParentType extends ResolversParentTypes['ExampleConnection'] = ResolversParentTypes['ExampleConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['ExampleEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
  totalCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type ExampleEdgeResolvers<ContextType = Context, ParentType extends ResolversParentTypes['ExampleEdge'] = ResolversParentTypes['ExampleEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Example'], ParentType, ContextType>;
}>;

export type ExperimentResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Experiment'] = ResolversParentTypes['Experiment']> = ResolversObject<{
  algorithm?: Resolver<ResolversTypes['Algorithm'], ParentType, ContextType>;
  config?: Resolver<ResolversTypes['JSON'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  dataset?: Resolver<ResolversTypes['Dataset'], ParentType, ContextType>;
  gpus?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  runs?: Resolver<Array<ResolversTypes['Run']>, ParentType, ContextType>;
  student?: Resolver<ResolversTypes['StudentInfo'], ParentType, ContextType>;
  studentSize?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  teachers?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type ExperimentConnectionResolvers<ContextType = Context, ParentType extends ResolversParentTypes['ExperimentConnection'] = ResolversParentTypes['ExperimentConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['ExperimentEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
  totalCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type ExperimentEdgeResolvers<ContextType = Context, ParentType extends ResolversParentTypes['ExperimentEdge'] = ResolversParentTypes['ExperimentEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Experiment'], ParentType, ContextType>;
}>;

export type FinalMetricResolvers<ContextType = Context, ParentType extends ResolversParentTypes['FinalMetric'] = ResolversParentTypes['FinalMetric']> = ResolversObject<{
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  step?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  value?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
}>;

export type HeartbeatResultResolvers<ContextType = Context, ParentType extends ResolversParentTypes['HeartbeatResult'] = ResolversParentTypes['HeartbeatResult']> = ResolversObject<{
  cancelRequested?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  leaseExpiresAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
}>;

export type ImportTeacherResponsesResultResolvers<ContextType = Context, ParentType extends ResolversParentTypes['ImportTeacherResponsesResult'] = ResolversParentTypes['ImportTeacherResponsesResult']> = ResolversObject<{
  imported?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  teachers?: Resolver<Array<ResolversTypes['Teacher']>, ParentType, ContextType>;
}>;

export type InferResultResolvers<ContextType = Context, ParentType extends ResolversParentTypes['InferResult'] = ResolversParentTypes['InferResult']> = ResolversObject<{
  answer?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  deployment?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  finishReason?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  revision?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  timings?: Resolver<ResolversTypes['InferTimings'], ParentType, ContextType>;
  tokenIds?: Resolver<Array<ResolversTypes['Int']>, ParentType, ContextType>;
  tokens?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type InferTimingsResolvers<ContextType = Context, ParentType extends ResolversParentTypes['InferTimings'] = ResolversParentTypes['InferTimings']> = ResolversObject<{
  decodeTokensPerSecond?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  preprocessMs?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  totalMs?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  ttftMs?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
}>;

export interface JsonScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['JSON'], any> {
  name: 'JSON';
}

export type JobResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Job'] = ResolversParentTypes['Job']> = ResolversObject<{
  attempts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  availableAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  cancelRequested?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  error?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  finishedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  heartbeatAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['JobKind'], ParentType, ContextType>;
  leaseExpiresAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  leaseOwner?: Resolver<Maybe<ResolversTypes['Worker']>, ParentType, ContextType>;
  maxAttempts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  payload?: Resolver<ResolversTypes['JSON'], ParentType, ContextType>;
  priority?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  requirements?: Resolver<ResolversTypes['JobRequirements'], ParentType, ContextType>;
  result?: Resolver<Maybe<ResolversTypes['JSON']>, ParentType, ContextType>;
  run?: Resolver<Maybe<ResolversTypes['Run']>, ParentType, ContextType>;
  startedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  status?: Resolver<ResolversTypes['JobStatus'], ParentType, ContextType>;
  waitingFor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type JobRequirementsResolvers<ContextType = Context, ParentType extends ResolversParentTypes['JobRequirements'] = ResolversParentTypes['JobRequirements']> = ResolversObject<{
  gpus?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  transformers?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export type LatencyStatsResolvers<ContextType = Context, ParentType extends ResolversParentTypes['LatencyStats'] = ResolversParentTypes['LatencyStats']> = ResolversObject<{
  decodeTokensPerSecond?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  p50Ms?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  p95Ms?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  requests?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  ttftP50Ms?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
}>;

export type MetricPointResolvers<ContextType = Context, ParentType extends ResolversParentTypes['MetricPoint'] = ResolversParentTypes['MetricPoint']> = ResolversObject<{
  step?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  value?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
}>;

export type MetricSeriesResolvers<ContextType = Context, ParentType extends ResolversParentTypes['MetricSeries'] = ResolversParentTypes['MetricSeries']> = ResolversObject<{
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  points?: Resolver<Array<ResolversTypes['MetricPoint']>, ParentType, ContextType>;
}>;

export type MutationResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Mutation'] = ResolversParentTypes['Mutation']> = ResolversObject<{
  addEvalSuiteVersion?: Resolver<ResolversTypes['EvalSuiteVersion'], ParentType, ContextType, RequireFields<MutationAddEvalSuiteVersionArgs, 'input'>>;
  cancelRun?: Resolver<ResolversTypes['Run'], ParentType, ContextType, RequireFields<MutationCancelRunArgs, 'id'>>;
  claimJob?: Resolver<Maybe<ResolversTypes['Job']>, ParentType, ContextType, RequireFields<MutationClaimJobArgs, 'input'>>;
  completeBlobUpload?: Resolver<ResolversTypes['Blob'], ParentType, ContextType, RequireFields<MutationCompleteBlobUploadArgs, 'sha256'>>;
  completeJob?: Resolver<ResolversTypes['Job'], ParentType, ContextType, RequireFields<MutationCompleteJobArgs, 'input'>>;
  createApiKey?: Resolver<ResolversTypes['CreatedApiKey'], ParentType, ContextType, RequireFields<MutationCreateApiKeyArgs, 'input'>>;
  createBlobUpload?: Resolver<ResolversTypes['BlobUpload'], ParentType, ContextType, RequireFields<MutationCreateBlobUploadArgs, 'input'>>;
  createEvalSuite?: Resolver<ResolversTypes['EvalSuite'], ParentType, ContextType, RequireFields<MutationCreateEvalSuiteArgs, 'input'>>;
  createExperiment?: Resolver<ResolversTypes['Experiment'], ParentType, ContextType, RequireFields<MutationCreateExperimentArgs, 'input'>>;
  deploy?: Resolver<ResolversTypes['Deployment'], ParentType, ContextType, RequireFields<MutationDeployArgs, 'input'>>;
  failJob?: Resolver<ResolversTypes['Job'], ParentType, ContextType, RequireFields<MutationFailJobArgs, 'input'>>;
  fillTeacherCache?: Resolver<ResolversTypes['Job'], ParentType, ContextType, RequireFields<MutationFillTeacherCacheArgs, 'input'>>;
  heartbeat?: Resolver<ResolversTypes['HeartbeatResult'], ParentType, ContextType, RequireFields<MutationHeartbeatArgs, 'input'>>;
  importDataset?: Resolver<ResolversTypes['Dataset'], ParentType, ContextType, RequireFields<MutationImportDatasetArgs, 'input'>>;
  importTeacherResponses?: Resolver<ResolversTypes['ImportTeacherResponsesResult'], ParentType, ContextType, RequireFields<MutationImportTeacherResponsesArgs, 'input'>>;
  queueEvaluation?: Resolver<ResolversTypes['Job'], ParentType, ContextType, RequireFields<MutationQueueEvaluationArgs, 'input'>>;
  queueSuiteEvaluation?: Resolver<ResolversTypes['Job'], ParentType, ContextType, RequireFields<MutationQueueSuiteEvaluationArgs, 'input'>>;
  queueTeacherFill?: Resolver<ResolversTypes['Job'], ParentType, ContextType, RequireFields<MutationQueueTeacherFillArgs, 'input'>>;
  recordEvalExamples?: Resolver<ResolversTypes['RecordEvalExamplesResult'], ParentType, ContextType, RequireFields<MutationRecordEvalExamplesArgs, 'input'>>;
  recordEvalResult?: Resolver<ResolversTypes['EvalResult'], ParentType, ContextType, RequireFields<MutationRecordEvalResultArgs, 'input'>>;
  registerArtifact?: Resolver<ResolversTypes['Artifact'], ParentType, ContextType, RequireFields<MutationRegisterArtifactArgs, 'input'>>;
  registerTeacher?: Resolver<ResolversTypes['Teacher'], ParentType, ContextType, RequireFields<MutationRegisterTeacherArgs, 'input'>>;
  registerWorker?: Resolver<ResolversTypes['Worker'], ParentType, ContextType, RequireFields<MutationRegisterWorkerArgs, 'input'>>;
  reportMetrics?: Resolver<ResolversTypes['ReportMetricsResult'], ParentType, ContextType, RequireFields<MutationReportMetricsArgs, 'input'>>;
  retryRun?: Resolver<ResolversTypes['Run'], ParentType, ContextType, RequireFields<MutationRetryRunArgs, 'id'>>;
  revokeApiKey?: Resolver<ResolversTypes['ApiKey'], ParentType, ContextType, RequireFields<MutationRevokeApiKeyArgs, 'id'>>;
  rollbackDeployment?: Resolver<ResolversTypes['Deployment'], ParentType, ContextType, RequireFields<MutationRollbackDeploymentArgs, 'name'>>;
  startRun?: Resolver<ResolversTypes['Run'], ParentType, ContextType, RequireFields<MutationStartRunArgs, 'input'>>;
  updateEvalSuiteVersion?: Resolver<ResolversTypes['EvalSuiteVersion'], ParentType, ContextType, RequireFields<MutationUpdateEvalSuiteVersionArgs, 'input'>>;
  updateTeacherEndpoint?: Resolver<ResolversTypes['Teacher'], ParentType, ContextType, RequireFields<MutationUpdateTeacherEndpointArgs, 'input'>>;
}>;

export type PageInfoResolvers<ContextType = Context, ParentType extends ResolversParentTypes['PageInfo'] = ResolversParentTypes['PageInfo']> = ResolversObject<{
  endCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hasNextPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export type QueryResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query']> = ResolversObject<{
  apiKeys?: Resolver<Array<ResolversTypes['ApiKey']>, ParentType, ContextType>;
  artifact?: Resolver<Maybe<ResolversTypes['Artifact']>, ParentType, ContextType, RequireFields<QueryArtifactArgs, 'id'>>;
  artifacts?: Resolver<Array<ResolversTypes['Artifact']>, ParentType, ContextType, Partial<QueryArtifactsArgs>>;
  blobDownloadUrl?: Resolver<ResolversTypes['BlobDownload'], ParentType, ContextType, RequireFields<QueryBlobDownloadUrlArgs, 'sha256'>>;
  compareRuns?: Resolver<ResolversTypes['RunComparison'], ParentType, ContextType, RequireFields<QueryCompareRunsArgs, 'ids' | 'points'>>;
  dataset?: Resolver<Maybe<ResolversTypes['Dataset']>, ParentType, ContextType, RequireFields<QueryDatasetArgs, 'id'>>;
  datasets?: Resolver<ResolversTypes['DatasetConnection'], ParentType, ContextType, RequireFields<QueryDatasetsArgs, 'first'>>;
  deployment?: Resolver<Maybe<ResolversTypes['Deployment']>, ParentType, ContextType, RequireFields<QueryDeploymentArgs, 'name'>>;
  deployments?: Resolver<Array<ResolversTypes['Deployment']>, ParentType, ContextType>;
  evalExamples?: Resolver<ResolversTypes['EvalExampleConnection'], ParentType, ContextType, RequireFields<QueryEvalExamplesArgs, 'entryId' | 'first' | 'subjectId' | 'versionId'>>;
  evalSuite?: Resolver<Maybe<ResolversTypes['EvalSuite']>, ParentType, ContextType, RequireFields<QueryEvalSuiteArgs, 'name'>>;
  evalSuites?: Resolver<Array<ResolversTypes['EvalSuite']>, ParentType, ContextType>;
  evaluationTable?: Resolver<ResolversTypes['EvaluationTable'], ParentType, ContextType, RequireFields<QueryEvaluationTableArgs, 'suite'>>;
  example?: Resolver<Maybe<ResolversTypes['Example']>, ParentType, ContextType, RequireFields<QueryExampleArgs, 'id'>>;
  experiment?: Resolver<Maybe<ResolversTypes['Experiment']>, ParentType, ContextType, RequireFields<QueryExperimentArgs, 'id'>>;
  experiments?: Resolver<ResolversTypes['ExperimentConnection'], ParentType, ContextType, RequireFields<QueryExperimentsArgs, 'first'>>;
  infer?: Resolver<ResolversTypes['InferResult'], ParentType, ContextType, RequireFields<QueryInferArgs, 'input'>>;
  job?: Resolver<Maybe<ResolversTypes['Job']>, ParentType, ContextType, RequireFields<QueryJobArgs, 'id'>>;
  jobs?: Resolver<Array<ResolversTypes['Job']>, ParentType, ContextType, RequireFields<QueryJobsArgs, 'first'>>;
  me?: Resolver<ResolversTypes['ApiKey'], ParentType, ContextType>;
  run?: Resolver<Maybe<ResolversTypes['Run']>, ParentType, ContextType, RequireFields<QueryRunArgs, 'id'>>;
  runs?: Resolver<Array<ResolversTypes['Run']>, ParentType, ContextType, RequireFields<QueryRunsArgs, 'first'>>;
  teacher?: Resolver<Maybe<ResolversTypes['Teacher']>, ParentType, ContextType, RequireFields<QueryTeacherArgs, 'name'>>;
  teacherResponses?: Resolver<ResolversTypes['TeacherResponseConnection'], ParentType, ContextType, RequireFields<QueryTeacherResponsesArgs, 'datasetId' | 'first'>>;
  teachers?: Resolver<Array<ResolversTypes['Teacher']>, ParentType, ContextType>;
  trainerConfigSchema?: Resolver<ResolversTypes['JSON'], ParentType, ContextType>;
  workers?: Resolver<Array<ResolversTypes['Worker']>, ParentType, ContextType>;
}>;

export type RecordEvalExamplesResultResolvers<ContextType = Context, ParentType extends ResolversParentTypes['RecordEvalExamplesResult'] = ResolversParentTypes['RecordEvalExamplesResult']> = ResolversObject<{
  duplicates?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  written?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type ReportMetricsResultResolvers<ContextType = Context, ParentType extends ResolversParentTypes['ReportMetricsResult'] = ResolversParentTypes['ReportMetricsResult']> = ResolversObject<{
  duplicates?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  written?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type RunResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Run'] = ResolversParentTypes['Run']> = ResolversObject<{
  artifacts?: Resolver<Array<ResolversTypes['Artifact']>, ParentType, ContextType, Partial<RunArtifactsArgs>>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  error?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  experiment?: Resolver<ResolversTypes['Experiment'], ParentType, ContextType>;
  finishedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  job?: Resolver<Maybe<ResolversTypes['Job']>, ParentType, ContextType>;
  latestCheckpoint?: Resolver<Maybe<ResolversTypes['Artifact']>, ParentType, ContextType>;
  metricNames?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  metrics?: Resolver<Array<ResolversTypes['MetricSeries']>, ParentType, ContextType, RequireFields<RunMetricsArgs, 'points'>>;
  progress?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  seed?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  startedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  status?: Resolver<ResolversTypes['RunStatus'], ParentType, ContextType>;
  step?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  totalSteps?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type RunComparisonResolvers<ContextType = Context, ParentType extends ResolversParentTypes['RunComparison'] = ResolversParentTypes['RunComparison']> = ResolversObject<{
  differingConfig?: Resolver<Array<ResolversTypes['ConfigDifference']>, ParentType, ContextType>;
  finals?: Resolver<Array<ResolversTypes['RunFinals']>, ParentType, ContextType>;
  runs?: Resolver<Array<ResolversTypes['Run']>, ParentType, ContextType>;
  series?: Resolver<Array<ResolversTypes['ComparedSeries']>, ParentType, ContextType>;
}>;

export type RunFinalsResolvers<ContextType = Context, ParentType extends ResolversParentTypes['RunFinals'] = ResolversParentTypes['RunFinals']> = ResolversObject<{
  metrics?: Resolver<Array<ResolversTypes['FinalMetric']>, ParentType, ContextType>;
  runId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
}>;

export type RunSeriesResolvers<ContextType = Context, ParentType extends ResolversParentTypes['RunSeries'] = ResolversParentTypes['RunSeries']> = ResolversObject<{
  points?: Resolver<Array<ResolversTypes['MetricPoint']>, ParentType, ContextType>;
  runId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
}>;

export type SplitCountResolvers<ContextType = Context, ParentType extends ResolversParentTypes['SplitCount'] = ResolversParentTypes['SplitCount']> = ResolversObject<{
  count?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  split?: Resolver<ResolversTypes['Split'], ParentType, ContextType>;
}>;

export type StudentInfoResolvers<ContextType = Context, ParentType extends ResolversParentTypes['StudentInfo'] = ResolversParentTypes['StudentInfo']> = ResolversObject<{
  discBackbone?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  dtype?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  family?: Resolver<ResolversTypes['StudentFamily'], ParentType, ContextType>;
  gradientCheckpointing?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  loraRank?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  model?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  sharding?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type TeacherResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Teacher'] = ResolversParentTypes['Teacher']> = ResolversObject<{
  apiKeyEnv?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  baseUrl?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  coverage?: Resolver<ResolversTypes['TeacherCoverage'], ParentType, ContextType, RequireFields<TeacherCoverageArgs, 'datasetId' | 'minSamples'>>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['TeacherKind'], ParentType, ContextType>;
  model?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type TeacherCoverageResolvers<ContextType = Context, ParentType extends ResolversParentTypes['TeacherCoverage'] = ResolversParentTypes['TeacherCoverage']> = ResolversObject<{
  covered?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  responses?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  teacher?: Resolver<ResolversTypes['Teacher'], ParentType, ContextType>;
  total?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type TeacherResponseResolvers<ContextType = Context, ParentType extends ResolversParentTypes['TeacherResponse'] = ResolversParentTypes['TeacherResponse']> = ResolversObject<{
  example?: Resolver<ResolversTypes['Example'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  sample?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  teacher?: Resolver<ResolversTypes['Teacher'], ParentType, ContextType>;
  text?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type TeacherResponseConnectionResolvers<ContextType = Context, ParentType extends ResolversParentTypes['TeacherResponseConnection'] = ResolversParentTypes['TeacherResponseConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['TeacherResponseEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
  totalCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type TeacherResponseEdgeResolvers<ContextType = Context, ParentType extends ResolversParentTypes['TeacherResponseEdge'] = ResolversParentTypes['TeacherResponseEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['TeacherResponse'], ParentType, ContextType>;
}>;

export type WorkerResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Worker'] = ResolversParentTypes['Worker']> = ResolversObject<{
  capabilities?: Resolver<ResolversTypes['JSON'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  gpus?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  lastSeenAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  transformers?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type Resolvers<ContextType = Context> = ResolversObject<{
  AnswerCount?: AnswerCountResolvers<ContextType>;
  ApiKey?: ApiKeyResolvers<ContextType>;
  Artifact?: ArtifactResolvers<ContextType>;
  Blob?: BlobResolvers<ContextType>;
  BlobDownload?: BlobDownloadResolvers<ContextType>;
  BlobUpload?: BlobUploadResolvers<ContextType>;
  ComparedSeries?: ComparedSeriesResolvers<ContextType>;
  ConfigDifference?: ConfigDifferenceResolvers<ContextType>;
  CreatedApiKey?: CreatedApiKeyResolvers<ContextType>;
  Dataset?: DatasetResolvers<ContextType>;
  DatasetConnection?: DatasetConnectionResolvers<ContextType>;
  DatasetEdge?: DatasetEdgeResolvers<ContextType>;
  DatasetStats?: DatasetStatsResolvers<ContextType>;
  DateTime?: GraphQLScalarType;
  Deployment?: DeploymentResolvers<ContextType>;
  DeploymentRevision?: DeploymentRevisionResolvers<ContextType>;
  EvalExampleConnection?: EvalExampleConnectionResolvers<ContextType>;
  EvalExampleEdge?: EvalExampleEdgeResolvers<ContextType>;
  EvalExampleRecord?: EvalExampleRecordResolvers<ContextType>;
  EvalResult?: EvalResultResolvers<ContextType>;
  EvalSubject?: EvalSubjectResolvers<ContextType>;
  EvalSuite?: EvalSuiteResolvers<ContextType>;
  EvalSuiteDataset?: EvalSuiteDatasetResolvers<ContextType>;
  EvalSuiteVersion?: EvalSuiteVersionResolvers<ContextType>;
  EvaluationCell?: EvaluationCellResolvers<ContextType>;
  EvaluationColumn?: EvaluationColumnResolvers<ContextType>;
  EvaluationRow?: EvaluationRowResolvers<ContextType>;
  EvaluationTable?: EvaluationTableResolvers<ContextType>;
  Example?: ExampleResolvers<ContextType>;
  ExampleConnection?: ExampleConnectionResolvers<ContextType>;
  ExampleEdge?: ExampleEdgeResolvers<ContextType>;
  Experiment?: ExperimentResolvers<ContextType>;
  ExperimentConnection?: ExperimentConnectionResolvers<ContextType>;
  ExperimentEdge?: ExperimentEdgeResolvers<ContextType>;
  FinalMetric?: FinalMetricResolvers<ContextType>;
  HeartbeatResult?: HeartbeatResultResolvers<ContextType>;
  ImportTeacherResponsesResult?: ImportTeacherResponsesResultResolvers<ContextType>;
  InferResult?: InferResultResolvers<ContextType>;
  InferTimings?: InferTimingsResolvers<ContextType>;
  JSON?: GraphQLScalarType;
  Job?: JobResolvers<ContextType>;
  JobRequirements?: JobRequirementsResolvers<ContextType>;
  LatencyStats?: LatencyStatsResolvers<ContextType>;
  MetricPoint?: MetricPointResolvers<ContextType>;
  MetricSeries?: MetricSeriesResolvers<ContextType>;
  Mutation?: MutationResolvers<ContextType>;
  PageInfo?: PageInfoResolvers<ContextType>;
  Query?: QueryResolvers<ContextType>;
  RecordEvalExamplesResult?: RecordEvalExamplesResultResolvers<ContextType>;
  ReportMetricsResult?: ReportMetricsResultResolvers<ContextType>;
  Run?: RunResolvers<ContextType>;
  RunComparison?: RunComparisonResolvers<ContextType>;
  RunFinals?: RunFinalsResolvers<ContextType>;
  RunSeries?: RunSeriesResolvers<ContextType>;
  SplitCount?: SplitCountResolvers<ContextType>;
  StudentInfo?: StudentInfoResolvers<ContextType>;
  Teacher?: TeacherResolvers<ContextType>;
  TeacherCoverage?: TeacherCoverageResolvers<ContextType>;
  TeacherResponse?: TeacherResponseResolvers<ContextType>;
  TeacherResponseConnection?: TeacherResponseConnectionResolvers<ContextType>;
  TeacherResponseEdge?: TeacherResponseEdgeResolvers<ContextType>;
  Worker?: WorkerResolvers<ContextType>;
}>;

