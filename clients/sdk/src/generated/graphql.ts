/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type AddEvalSuiteVersionInput = {
  datasets: Array<EvalSuiteDatasetInput>;
  suite: string;
};

export type Algorithm =
  | 'DR_GRPO'
  | 'GRPO'
  | 'RIL'
  | 'SFT';

export type ArtifactKind =
  | 'BUNDLE'
  | 'CHECKPOINT'
  | 'DISCRIMINATOR'
  | 'OTHER';

export type CreateBlobUploadInput = {
  contentType?: string | null | undefined;
  /** sha256 of the bytes (64 lowercase hex digits) */
  sha256: string;
  /** exact length in bytes */
  size: number;
};

export type CreateEvalSuiteInput = {
  datasets: Array<EvalSuiteDatasetInput>;
  description?: string | null | undefined;
  name: string;
};

export type CreateExperimentInput = {
  algorithm: Algorithm;
  /** Trainer config overrides (see trainerConfigSchema); unknown keys and out-of-range values are rejected. */
  config?: unknown;
  datasetId: string | number;
  name: string;
  /**
   * The built-in student's size: nano | small | base (required for the built-in family). Leave it out for a Hugging
   * Face student (config.student.family "hf"): that student is config.student.model, and a size with it is refused.
   */
  studentSize?: string | null | undefined;
  /** Teachers whose cached responses RIL imitates (multi-teacher: all of them). */
  teachers?: Array<string> | null | undefined;
};

export type DeployInput = {
  artifactId: string | number;
  name: string;
  note?: string | null | undefined;
  /**
   * Which variant of the bundle to serve (a Hugging Face bundle's fp32, int8, q4 or fp16: see the artifact's
   * metadata.bundle.variants); default: the bundle's default variant. Built-in bundles have no variants.
   */
  variant?: string | null | undefined;
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

export type EvalJudge =
  /** A judge model behind an OpenAI-compatible endpoint. */
  | 'LLM'
  /** The trainer's rule judge (normalised answer match). */
  | 'RULE';

/**
 * Who is scored. RUN: runId. DEPLOYMENT: deployment (and revision; default the live one). EXTERNAL: endpoint + model
 * (and apiKeyEnv, the NAME of an allowlisted variable holding its key; not part of its identity). TEACHER: teacher.
 */
export type EvalSubjectInput = {
  apiKeyEnv?: string | null | undefined;
  deployment?: string | null | undefined;
  endpoint?: string | null | undefined;
  kind: EvalSubjectKind;
  model?: string | null | undefined;
  revision?: number | null | undefined;
  runId?: string | number | null | undefined;
  teacher?: string | null | undefined;
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

/** One dataset of a suite version. Give exactly one of datasetId and dataset. */
export type EvalSuiteDatasetInput = {
  /** A dataset name (its newest version, pinned when the suite version is made) or name@version. */
  dataset?: string | null | undefined;
  datasetId?: string | number | null | undefined;
  judge?: EvalJudge | null | undefined;
  /** LLM judge: NAME of the environment variable holding the key (in RIL_SECRET_ENV_ALLOWLIST); never the key. */
  judgeApiKeyEnv?: string | null | undefined;
  /** LLM judge: OpenAI-compatible base URL (the outbound checks of registerTeacher apply). */
  judgeEndpoint?: string | null | undefined;
  /** LLM judge: the model name. */
  judgeModel?: string | null | undefined;
  /** Score at most this many examples of the split (in dataset order); null: all. */
  sampleLimit?: number | null | undefined;
  split?: Split | null | undefined;
};

export type FillTeacherCacheInput = {
  concurrency?: number | null | undefined;
  datasetId: string | number;
  limit?: number | null | undefined;
  samplesPerExample?: number | null | undefined;
  split?: Split | null | undefined;
  teacher: string;
};

/** Give exactly one of `blobSha256` and `path`. */
export type ImportDatasetInput = {
  /**
   * An uploaded blob (PUT /blobs/<sha256>): a JSONL file whose images are `sha256:<hash>` references to uploaded
   * blobs, or a .tar / .tar.gz archive holding `examples.jsonl` and the image files it references (paths relative
   * to it).
   */
  blobSha256?: string | null | undefined;
  description?: string | null | undefined;
  name: string;
  /** Path of a JSONL file on the server's disk: for the local CLI only; refused when RIL_DEPLOYMENT=functions. */
  path?: string | null | undefined;
};

export type JobKind =
  | 'EVALUATE'
  | 'TEACHER_FILL'
  | 'TRAIN';

export type JobStatus =
  | 'CANCELLED'
  | 'FAILED'
  | 'LEASED'
  | 'QUEUED'
  | 'SUCCEEDED';

export type QueueSuiteEvaluationInput = {
  priority?: number | null | undefined;
  subject: EvalSubjectInput;
  suite: string;
  /** null: the newest version */
  version?: number | null | undefined;
};

export type RegisterArtifactInput = {
  /** The lease's fencing token: Job.attempts as claimJob returned it (a lease lost and claimed again is refused: CONFLICT). */
  attempt?: number | null | undefined;
  blobSha256: string;
  kind: ArtifactKind;
  metadata?: unknown;
  name: string;
  runId?: string | number | null | undefined;
  /**
   * The worker holding the run's current lease, registered by the calling key. Required for a CHECKPOINT, for a
   * BUNDLE with a runId, and for any artifact a WORKER key attaches to a run; no other caller may register those.
   */
  workerId?: string | number | null | undefined;
};

export type Role =
  | 'ADMIN'
  | 'EDITOR'
  | 'INFERENCE'
  | 'VIEWER'
  | 'WORKER';

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

export type StartRunInput = {
  experimentId: string | number;
  maxAttempts?: number | null | undefined;
  priority?: number | null | undefined;
  seed?: number | null | undefined;
};

/** The student family: the compact built-in one (model.py) or a Hugging Face vision-language model. */
export type StudentFamily =
  | 'BUILTIN'
  | 'HF';

export type MeQueryVariables = Exact<{ [key: string]: never; }>;


export type MeQuery = { me: { id: string, name: string, role: Role, prefix: string } };

export type DatasetsQueryVariables = Exact<{
  first?: number | null | undefined;
}>;


export type DatasetsQuery = { datasets: { totalCount: number, edges: Array<{ node: { id: string, name: string, version: number, description: string | null, exampleCount: number, createdAt: string, stats: { splits: Array<{ split: Split, count: number }> } } }> } };

export type DatasetExamplesQueryVariables = Exact<{
  id: string | number;
  first?: number | null | undefined;
  after?: string | null | undefined;
  split?: Split | null | undefined;
}>;


export type DatasetExamplesQuery = { dataset: { id: string, name: string, version: number, exampleCount: number, teacherCoverage: Array<{ covered: number, total: number, responses: number, teacher: { name: string, model: string } }>, examples: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, externalId: string, split: Split, question: string, answer: string, imageSha256: string, imageUrl: string, teacherResponses: Array<{ sample: number, text: string, teacher: { name: string } }> } }> } } | null };

export type StudentFieldsFragment = { family: StudentFamily, model: string, loraRank: number, dtype: string, discBackbone: string, gradientCheckpointing: boolean, sharding: string };

export type ExperimentsQueryVariables = Exact<{
  first?: number | null | undefined;
  datasetId?: string | number | null | undefined;
}>;


export type ExperimentsQuery = { experiments: { totalCount: number, edges: Array<{ node: { id: string, name: string, algorithm: Algorithm, studentSize: string | null, gpus: number, teachers: Array<string>, createdAt: string, student: { family: StudentFamily, model: string, loraRank: number, dtype: string, discBackbone: string, gradientCheckpointing: boolean, sharding: string }, dataset: { id: string, name: string }, runs: Array<{ id: string, seed: number, status: RunStatus, step: number, totalSteps: number, progress: number, createdAt: string, finishedAt: string | null }> } }> } };

export type ExperimentQueryVariables = Exact<{
  id: string | number;
}>;


export type ExperimentQuery = { experiment: { id: string, name: string, algorithm: Algorithm, studentSize: string | null, gpus: number, teachers: Array<string>, config: unknown, createdAt: string, student: { family: StudentFamily, model: string, loraRank: number, dtype: string, discBackbone: string, gradientCheckpointing: boolean, sharding: string }, dataset: { id: string, name: string, version: number }, runs: Array<{ id: string, seed: number, status: RunStatus, step: number, totalSteps: number, progress: number, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null }> } | null };

export type CreateExperimentMutationVariables = Exact<{
  input: CreateExperimentInput;
}>;


export type CreateExperimentMutation = { createExperiment: { id: string, name: string, algorithm: Algorithm, studentSize: string | null, gpus: number, teachers: Array<string>, config: unknown, student: { family: StudentFamily, model: string, loraRank: number, dtype: string, discBackbone: string, gradientCheckpointing: boolean, sharding: string }, dataset: { id: string, name: string } } };

export type StartRunMutationVariables = Exact<{
  input: StartRunInput;
}>;


export type StartRunMutation = { startRun: { id: string, seed: number, status: RunStatus, experiment: { id: string, name: string }, job: { id: string, status: JobStatus } | null } };

export type CancelRunMutationVariables = Exact<{
  id: string | number;
}>;


export type CancelRunMutation = { cancelRun: { id: string, status: RunStatus } };

export type RunsQueryVariables = Exact<{
  experimentId?: string | number | null | undefined;
  status?: RunStatus | null | undefined;
  first?: number | null | undefined;
}>;


export type RunsQuery = { runs: Array<{ id: string, seed: number, status: RunStatus, step: number, totalSteps: number, progress: number, createdAt: string, startedAt: string | null, finishedAt: string | null, experiment: { id: string, name: string, algorithm: Algorithm } }> };

export type RunQueryVariables = Exact<{
  id: string | number;
}>;


export type RunQuery = { run: { id: string, seed: number, status: RunStatus, step: number, totalSteps: number, progress: number, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, metricNames: Array<string>, experiment: { id: string, name: string, algorithm: Algorithm, studentSize: string | null, gpus: number, config: unknown, student: { family: StudentFamily, model: string, loraRank: number, dtype: string, discBackbone: string, gradientCheckpointing: boolean, sharding: string }, dataset: { id: string, name: string } }, job: { id: string, status: JobStatus, attempts: number, error: string | null } | null, artifacts: Array<{ id: string, kind: ArtifactKind, name: string, size: number, blobSha256: string, metadata: unknown, createdAt: string }> } | null };

export type RunProgressQueryVariables = Exact<{
  id: string | number;
  names?: Array<string> | string | null | undefined;
  fromStep?: number | null | undefined;
  points?: number | null | undefined;
}>;


export type RunProgressQuery = { run: { id: string, status: RunStatus, step: number, totalSteps: number, progress: number, error: string | null, startedAt: string | null, finishedAt: string | null, job: { id: string, waitingFor: string | null } | null, metrics: Array<{ name: string, points: Array<{ step: number, value: number }> }> } | null };

export type CompareRunsQueryVariables = Exact<{
  ids: Array<string | number> | string | number;
  names?: Array<string> | string | null | undefined;
  points?: number | null | undefined;
}>;


export type CompareRunsQuery = { compareRuns: { runs: Array<{ id: string, seed: number, status: RunStatus, step: number, totalSteps: number, experiment: { id: string, name: string, algorithm: Algorithm, studentSize: string | null, gpus: number, student: { family: StudentFamily, model: string, loraRank: number, dtype: string, discBackbone: string, gradientCheckpointing: boolean, sharding: string } } }>, series: Array<{ name: string, runs: Array<{ runId: string, points: Array<{ step: number, value: number }> }> }>, finals: Array<{ runId: string, metrics: Array<{ name: string, step: number, value: number }> }>, differingConfig: Array<{ key: string, values: Array<unknown> }> } };

export type ArtifactsQueryVariables = Exact<{
  kind?: ArtifactKind | null | undefined;
  runId?: string | number | null | undefined;
}>;


export type ArtifactsQuery = { artifacts: Array<{ id: string, runId: string | null, kind: ArtifactKind, name: string, blobSha256: string, size: number, metadata: unknown, createdAt: string }> };

export type RegisterArtifactMutationVariables = Exact<{
  input: RegisterArtifactInput;
}>;


export type RegisterArtifactMutation = { registerArtifact: { id: string, runId: string | null, kind: ArtifactKind, name: string, blobSha256: string, size: number, metadata: unknown, createdAt: string } };

export type DeploymentFieldsFragment = { id: string, name: string, status: DeploymentStatus, error: string | null, createdAt: string, updatedAt: string, liveRevision: { revision: number, variant: string | null } | null, revisions: Array<{ id: string, revision: number, note: string | null, variant: string | null, live: boolean, createdAt: string, artifact: { id: string, name: string, runId: string | null, blobSha256: string, size: number } }>, latency: { requests: number, p50Ms: number | null, p95Ms: number | null, ttftP50Ms: number | null, decodeTokensPerSecond: number | null } };

export type DeploymentsQueryVariables = Exact<{ [key: string]: never; }>;


export type DeploymentsQuery = { deployments: Array<{ id: string, name: string, status: DeploymentStatus, error: string | null, createdAt: string, updatedAt: string, liveRevision: { revision: number, variant: string | null } | null, revisions: Array<{ id: string, revision: number, note: string | null, variant: string | null, live: boolean, createdAt: string, artifact: { id: string, name: string, runId: string | null, blobSha256: string, size: number } }>, latency: { requests: number, p50Ms: number | null, p95Ms: number | null, ttftP50Ms: number | null, decodeTokensPerSecond: number | null } }> };

export type DeploymentQueryVariables = Exact<{
  name: string;
}>;


export type DeploymentQuery = { deployment: { id: string, name: string, status: DeploymentStatus, error: string | null, createdAt: string, updatedAt: string, liveRevision: { revision: number, variant: string | null } | null, revisions: Array<{ id: string, revision: number, note: string | null, variant: string | null, live: boolean, createdAt: string, artifact: { id: string, name: string, runId: string | null, blobSha256: string, size: number } }>, latency: { requests: number, p50Ms: number | null, p95Ms: number | null, ttftP50Ms: number | null, decodeTokensPerSecond: number | null } } | null };

export type DeployMutationVariables = Exact<{
  input: DeployInput;
}>;


export type DeployMutation = { deploy: { id: string, name: string, status: DeploymentStatus, error: string | null, createdAt: string, updatedAt: string, liveRevision: { revision: number, variant: string | null } | null, revisions: Array<{ id: string, revision: number, note: string | null, variant: string | null, live: boolean, createdAt: string, artifact: { id: string, name: string, runId: string | null, blobSha256: string, size: number } }>, latency: { requests: number, p50Ms: number | null, p95Ms: number | null, ttftP50Ms: number | null, decodeTokensPerSecond: number | null } } };

export type RollbackDeploymentMutationVariables = Exact<{
  name: string;
  revision?: number | null | undefined;
}>;


export type RollbackDeploymentMutation = { rollbackDeployment: { id: string, name: string, status: DeploymentStatus, error: string | null, createdAt: string, updatedAt: string, liveRevision: { revision: number, variant: string | null } | null, revisions: Array<{ id: string, revision: number, note: string | null, variant: string | null, live: boolean, createdAt: string, artifact: { id: string, name: string, runId: string | null, blobSha256: string, size: number } }>, latency: { requests: number, p50Ms: number | null, p95Ms: number | null, ttftP50Ms: number | null, decodeTokensPerSecond: number | null } } };

export type ImportDatasetMutationVariables = Exact<{
  input: ImportDatasetInput;
}>;


export type ImportDatasetMutation = { importDataset: { id: string, name: string, version: number, exampleCount: number } };

export type FillTeacherCacheMutationVariables = Exact<{
  input: FillTeacherCacheInput;
}>;


export type FillTeacherCacheMutation = { fillTeacherCache: { id: string, kind: JobKind, status: JobStatus, attempts: number, maxAttempts: number, error: string | null, result: unknown } };

export type JobQueryVariables = Exact<{
  id: string | number;
}>;


export type JobQuery = { job: { id: string, kind: JobKind, status: JobStatus, attempts: number, maxAttempts: number, error: string | null, result: unknown, leaseExpiresAt: string | null, heartbeatAt: string | null, createdAt: string, finishedAt: string | null } | null };

export type CreateBlobUploadMutationVariables = Exact<{
  input: CreateBlobUploadInput;
}>;


export type CreateBlobUploadMutation = { createBlobUpload: { sha256: string, alreadyExists: boolean, url: string | null, method: string, headers: unknown, expiresAt: string | null } };

export type CompleteBlobUploadMutationVariables = Exact<{
  sha256: string;
}>;


export type CompleteBlobUploadMutation = { completeBlobUpload: { sha256: string, size: number, contentType: string, createdAt: string } };

export type BlobDownloadUrlQueryVariables = Exact<{
  sha256: string;
}>;


export type BlobDownloadUrlQuery = { blobDownloadUrl: { url: string, expiresAt: string } };

export type EvalSuitesQueryVariables = Exact<{ [key: string]: never; }>;


export type EvalSuitesQuery = { evalSuites: Array<{ id: string, name: string, description: string | null, createdAt: string, latest: { version: number, frozen: boolean, datasets: Array<{ id: string, position: number, label: string, split: Split, judge: EvalJudge, judgeModel: string | null, sampleLimit: number | null, dataset: { id: string, name: string, version: number } }> }, versions: Array<{ version: number, frozen: boolean }> }> };

export type EvalSuiteQueryVariables = Exact<{
  name: string;
}>;


export type EvalSuiteQuery = { evalSuite: { id: string, name: string, description: string | null, createdAt: string, versions: Array<{ id: string, version: number, frozen: boolean, createdAt: string, datasets: Array<{ id: string, position: number, label: string, split: Split, judge: EvalJudge, judgeEndpoint: string | null, judgeModel: string | null, judgeApiKeyEnv: string | null, sampleLimit: number | null, dataset: { id: string, name: string, version: number } }>, results: Array<{ id: string, accuracy: number, n: number, meanResponseLength: number | null, jobId: string | null, createdAt: string, subject: { id: string, kind: EvalSubjectKind, label: string }, entry: { id: string, position: number, label: string } }> }> } | null };

export type CreateEvalSuiteMutationVariables = Exact<{
  input: CreateEvalSuiteInput;
}>;


export type CreateEvalSuiteMutation = { createEvalSuite: { id: string, name: string, latest: { version: number, datasets: Array<{ id: string, position: number, label: string, split: Split, judge: EvalJudge, sampleLimit: number | null }> } } };

export type AddEvalSuiteVersionMutationVariables = Exact<{
  input: AddEvalSuiteVersionInput;
}>;


export type AddEvalSuiteVersionMutation = { addEvalSuiteVersion: { id: string, version: number, datasets: Array<{ id: string, position: number, label: string, split: Split, judge: EvalJudge, sampleLimit: number | null }> } };

export type EvaluationTableQueryVariables = Exact<{
  suite: string;
  version?: number | null | undefined;
  subjects?: Array<EvalSubjectInput> | EvalSubjectInput | null | undefined;
}>;


export type EvaluationTableQuery = { evaluationTable: { suite: { name: string }, version: { version: number, frozen: boolean }, columns: Array<{ label: string, entry: { id: string } | null }>, rows: Array<{ label: string, kind: EvalSubjectKind, experiment: { id: string, name: string } | null, subjects: Array<{ id: string, kind: EvalSubjectKind, label: string }>, cells: Array<{ mean: number | null, halfWidth: number | null, low: number | null, high: number | null, n: number, best: boolean }> }> } };

export type QueueSuiteEvaluationMutationVariables = Exact<{
  input: QueueSuiteEvaluationInput;
}>;


export type QueueSuiteEvaluationMutation = { queueSuiteEvaluation: { id: string, kind: JobKind, status: JobStatus, payload: unknown } };

export type EvalExamplesQueryVariables = Exact<{
  versionId: string | number;
  subjectId: string | number;
  entryId: string | number;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type EvalExamplesQuery = { evalExamples: { totalCount: number, correctCount: number, edges: Array<{ node: { externalId: string, response: string, correct: boolean, responseTokens: number | null, example: { question: string, answer: string } } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type EvaluationTableViewQueryVariables = Exact<{
  suite: string;
  version?: number | null | undefined;
}>;


export type EvaluationTableViewQuery = { evaluationTable: { suite: { name: string, description: string | null, versions: Array<{ version: number, frozen: boolean }> }, version: { version: number, frozen: boolean }, columns: Array<{ label: string, entry: { id: string } | null }>, rows: Array<{ label: string, kind: EvalSubjectKind, experiment: { id: string, name: string, algorithm: Algorithm, studentSize: string | null, gpus: number, teachers: Array<string>, config: unknown, student: { family: StudentFamily, model: string, loraRank: number, dtype: string, discBackbone: string, gradientCheckpointing: boolean, sharding: string } } | null, subjects: Array<{ id: string, kind: EvalSubjectKind, label: string }>, cells: Array<{ mean: number | null, halfWidth: number | null, low: number | null, high: number | null, n: number, best: boolean }> }> } };

export type WorkersQueryVariables = Exact<{ [key: string]: never; }>;


export type WorkersQuery = { workers: Array<{ id: string, name: string, gpus: number, capabilities: unknown, createdAt: string, lastSeenAt: string }> };

export type JobsQueryVariables = Exact<{
  status?: JobStatus | null | undefined;
  kind?: JobKind | null | undefined;
  first?: number | null | undefined;
}>;


export type JobsQuery = { jobs: Array<{ id: string, kind: JobKind, status: JobStatus, priority: number, attempts: number, maxAttempts: number, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, waitingFor: string | null, requirements: { gpus: number, transformers: boolean }, leaseOwner: { id: string, name: string } | null, run: { id: string, experiment: { id: string, name: string } } | null }> };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const StudentFieldsFragmentDoc = new TypedDocumentString(`
    fragment StudentFields on StudentInfo {
  family
  model
  loraRank
  dtype
  discBackbone
  gradientCheckpointing
  sharding
}
    `, {"fragmentName":"StudentFields"}) as unknown as TypedDocumentString<StudentFieldsFragment, unknown>;
export const DeploymentFieldsFragmentDoc = new TypedDocumentString(`
    fragment DeploymentFields on Deployment {
  id
  name
  status
  error
  createdAt
  updatedAt
  liveRevision {
    revision
    variant
  }
  revisions {
    id
    revision
    note
    variant
    live
    createdAt
    artifact {
      id
      name
      runId
      blobSha256
      size
    }
  }
  latency {
    requests
    p50Ms
    p95Ms
    ttftP50Ms
    decodeTokensPerSecond
  }
}
    `, {"fragmentName":"DeploymentFields"}) as unknown as TypedDocumentString<DeploymentFieldsFragment, unknown>;
export const MeDocument = new TypedDocumentString(`
    query Me {
  me {
    id
    name
    role
    prefix
  }
}
    `) as unknown as TypedDocumentString<MeQuery, MeQueryVariables>;
export const DatasetsDocument = new TypedDocumentString(`
    query Datasets($first: Int = 50) {
  datasets(first: $first) {
    totalCount
    edges {
      node {
        id
        name
        version
        description
        exampleCount
        createdAt
        stats {
          splits {
            split
            count
          }
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<DatasetsQuery, DatasetsQueryVariables>;
export const DatasetExamplesDocument = new TypedDocumentString(`
    query DatasetExamples($id: ID!, $first: Int = 12, $after: String, $split: Split) {
  dataset(id: $id) {
    id
    name
    version
    exampleCount
    teacherCoverage {
      teacher {
        name
        model
      }
      covered
      total
      responses
    }
    examples(first: $first, after: $after, split: $split) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          externalId
          split
          question
          answer
          imageSha256
          imageUrl
          teacherResponses {
            sample
            text
            teacher {
              name
            }
          }
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<DatasetExamplesQuery, DatasetExamplesQueryVariables>;
export const ExperimentsDocument = new TypedDocumentString(`
    query Experiments($first: Int = 50, $datasetId: ID) {
  experiments(first: $first, datasetId: $datasetId) {
    totalCount
    edges {
      node {
        id
        name
        algorithm
        studentSize
        student {
          ...StudentFields
        }
        gpus
        teachers
        createdAt
        dataset {
          id
          name
        }
        runs {
          id
          seed
          status
          step
          totalSteps
          progress
          createdAt
          finishedAt
        }
      }
    }
  }
}
    fragment StudentFields on StudentInfo {
  family
  model
  loraRank
  dtype
  discBackbone
  gradientCheckpointing
  sharding
}`) as unknown as TypedDocumentString<ExperimentsQuery, ExperimentsQueryVariables>;
export const ExperimentDocument = new TypedDocumentString(`
    query Experiment($id: ID!) {
  experiment(id: $id) {
    id
    name
    algorithm
    studentSize
    student {
      ...StudentFields
    }
    gpus
    teachers
    config
    createdAt
    dataset {
      id
      name
      version
    }
    runs {
      id
      seed
      status
      step
      totalSteps
      progress
      error
      createdAt
      startedAt
      finishedAt
    }
  }
}
    fragment StudentFields on StudentInfo {
  family
  model
  loraRank
  dtype
  discBackbone
  gradientCheckpointing
  sharding
}`) as unknown as TypedDocumentString<ExperimentQuery, ExperimentQueryVariables>;
export const CreateExperimentDocument = new TypedDocumentString(`
    mutation CreateExperiment($input: CreateExperimentInput!) {
  createExperiment(input: $input) {
    id
    name
    algorithm
    studentSize
    student {
      ...StudentFields
    }
    gpus
    teachers
    config
    dataset {
      id
      name
    }
  }
}
    fragment StudentFields on StudentInfo {
  family
  model
  loraRank
  dtype
  discBackbone
  gradientCheckpointing
  sharding
}`) as unknown as TypedDocumentString<CreateExperimentMutation, CreateExperimentMutationVariables>;
export const StartRunDocument = new TypedDocumentString(`
    mutation StartRun($input: StartRunInput!) {
  startRun(input: $input) {
    id
    seed
    status
    experiment {
      id
      name
    }
    job {
      id
      status
    }
  }
}
    `) as unknown as TypedDocumentString<StartRunMutation, StartRunMutationVariables>;
export const CancelRunDocument = new TypedDocumentString(`
    mutation CancelRun($id: ID!) {
  cancelRun(id: $id) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<CancelRunMutation, CancelRunMutationVariables>;
export const RunsDocument = new TypedDocumentString(`
    query Runs($experimentId: ID, $status: RunStatus, $first: Int = 50) {
  runs(experimentId: $experimentId, status: $status, first: $first) {
    id
    seed
    status
    step
    totalSteps
    progress
    createdAt
    startedAt
    finishedAt
    experiment {
      id
      name
      algorithm
    }
  }
}
    `) as unknown as TypedDocumentString<RunsQuery, RunsQueryVariables>;
export const RunDocument = new TypedDocumentString(`
    query Run($id: ID!) {
  run(id: $id) {
    id
    seed
    status
    step
    totalSteps
    progress
    error
    createdAt
    startedAt
    finishedAt
    experiment {
      id
      name
      algorithm
      studentSize
      student {
        ...StudentFields
      }
      gpus
      config
      dataset {
        id
        name
      }
    }
    job {
      id
      status
      attempts
      error
    }
    artifacts {
      id
      kind
      name
      size
      blobSha256
      metadata
      createdAt
    }
    metricNames
  }
}
    fragment StudentFields on StudentInfo {
  family
  model
  loraRank
  dtype
  discBackbone
  gradientCheckpointing
  sharding
}`) as unknown as TypedDocumentString<RunQuery, RunQueryVariables>;
export const RunProgressDocument = new TypedDocumentString(`
    query RunProgress($id: ID!, $names: [String!], $fromStep: Int, $points: Int = 500) {
  run(id: $id) {
    id
    status
    step
    totalSteps
    progress
    error
    startedAt
    finishedAt
    job {
      id
      waitingFor
    }
    metrics(names: $names, fromStep: $fromStep, points: $points) {
      name
      points {
        step
        value
      }
    }
  }
}
    `) as unknown as TypedDocumentString<RunProgressQuery, RunProgressQueryVariables>;
export const CompareRunsDocument = new TypedDocumentString(`
    query CompareRuns($ids: [ID!]!, $names: [String!], $points: Int = 200) {
  compareRuns(ids: $ids, names: $names, points: $points) {
    runs {
      id
      seed
      status
      step
      totalSteps
      experiment {
        id
        name
        algorithm
        studentSize
        student {
          ...StudentFields
        }
        gpus
      }
    }
    series {
      name
      runs {
        runId
        points {
          step
          value
        }
      }
    }
    finals {
      runId
      metrics {
        name
        step
        value
      }
    }
    differingConfig {
      key
      values
    }
  }
}
    fragment StudentFields on StudentInfo {
  family
  model
  loraRank
  dtype
  discBackbone
  gradientCheckpointing
  sharding
}`) as unknown as TypedDocumentString<CompareRunsQuery, CompareRunsQueryVariables>;
export const ArtifactsDocument = new TypedDocumentString(`
    query Artifacts($kind: ArtifactKind, $runId: ID) {
  artifacts(kind: $kind, runId: $runId) {
    id
    runId
    kind
    name
    blobSha256
    size
    metadata
    createdAt
  }
}
    `) as unknown as TypedDocumentString<ArtifactsQuery, ArtifactsQueryVariables>;
export const RegisterArtifactDocument = new TypedDocumentString(`
    mutation RegisterArtifact($input: RegisterArtifactInput!) {
  registerArtifact(input: $input) {
    id
    runId
    kind
    name
    blobSha256
    size
    metadata
    createdAt
  }
}
    `) as unknown as TypedDocumentString<RegisterArtifactMutation, RegisterArtifactMutationVariables>;
export const DeploymentsDocument = new TypedDocumentString(`
    query Deployments {
  deployments {
    ...DeploymentFields
  }
}
    fragment DeploymentFields on Deployment {
  id
  name
  status
  error
  createdAt
  updatedAt
  liveRevision {
    revision
    variant
  }
  revisions {
    id
    revision
    note
    variant
    live
    createdAt
    artifact {
      id
      name
      runId
      blobSha256
      size
    }
  }
  latency {
    requests
    p50Ms
    p95Ms
    ttftP50Ms
    decodeTokensPerSecond
  }
}`) as unknown as TypedDocumentString<DeploymentsQuery, DeploymentsQueryVariables>;
export const DeploymentDocument = new TypedDocumentString(`
    query Deployment($name: String!) {
  deployment(name: $name) {
    ...DeploymentFields
  }
}
    fragment DeploymentFields on Deployment {
  id
  name
  status
  error
  createdAt
  updatedAt
  liveRevision {
    revision
    variant
  }
  revisions {
    id
    revision
    note
    variant
    live
    createdAt
    artifact {
      id
      name
      runId
      blobSha256
      size
    }
  }
  latency {
    requests
    p50Ms
    p95Ms
    ttftP50Ms
    decodeTokensPerSecond
  }
}`) as unknown as TypedDocumentString<DeploymentQuery, DeploymentQueryVariables>;
export const DeployDocument = new TypedDocumentString(`
    mutation Deploy($input: DeployInput!) {
  deploy(input: $input) {
    ...DeploymentFields
  }
}
    fragment DeploymentFields on Deployment {
  id
  name
  status
  error
  createdAt
  updatedAt
  liveRevision {
    revision
    variant
  }
  revisions {
    id
    revision
    note
    variant
    live
    createdAt
    artifact {
      id
      name
      runId
      blobSha256
      size
    }
  }
  latency {
    requests
    p50Ms
    p95Ms
    ttftP50Ms
    decodeTokensPerSecond
  }
}`) as unknown as TypedDocumentString<DeployMutation, DeployMutationVariables>;
export const RollbackDeploymentDocument = new TypedDocumentString(`
    mutation RollbackDeployment($name: String!, $revision: Int) {
  rollbackDeployment(name: $name, revision: $revision) {
    ...DeploymentFields
  }
}
    fragment DeploymentFields on Deployment {
  id
  name
  status
  error
  createdAt
  updatedAt
  liveRevision {
    revision
    variant
  }
  revisions {
    id
    revision
    note
    variant
    live
    createdAt
    artifact {
      id
      name
      runId
      blobSha256
      size
    }
  }
  latency {
    requests
    p50Ms
    p95Ms
    ttftP50Ms
    decodeTokensPerSecond
  }
}`) as unknown as TypedDocumentString<RollbackDeploymentMutation, RollbackDeploymentMutationVariables>;
export const ImportDatasetDocument = new TypedDocumentString(`
    mutation ImportDataset($input: ImportDatasetInput!) {
  importDataset(input: $input) {
    id
    name
    version
    exampleCount
  }
}
    `) as unknown as TypedDocumentString<ImportDatasetMutation, ImportDatasetMutationVariables>;
export const FillTeacherCacheDocument = new TypedDocumentString(`
    mutation FillTeacherCache($input: FillTeacherCacheInput!) {
  fillTeacherCache(input: $input) {
    id
    kind
    status
    attempts
    maxAttempts
    error
    result
  }
}
    `) as unknown as TypedDocumentString<FillTeacherCacheMutation, FillTeacherCacheMutationVariables>;
export const JobDocument = new TypedDocumentString(`
    query Job($id: ID!) {
  job(id: $id) {
    id
    kind
    status
    attempts
    maxAttempts
    error
    result
    leaseExpiresAt
    heartbeatAt
    createdAt
    finishedAt
  }
}
    `) as unknown as TypedDocumentString<JobQuery, JobQueryVariables>;
export const CreateBlobUploadDocument = new TypedDocumentString(`
    mutation CreateBlobUpload($input: CreateBlobUploadInput!) {
  createBlobUpload(input: $input) {
    sha256
    alreadyExists
    url
    method
    headers
    expiresAt
  }
}
    `) as unknown as TypedDocumentString<CreateBlobUploadMutation, CreateBlobUploadMutationVariables>;
export const CompleteBlobUploadDocument = new TypedDocumentString(`
    mutation CompleteBlobUpload($sha256: String!) {
  completeBlobUpload(sha256: $sha256) {
    sha256
    size
    contentType
    createdAt
  }
}
    `) as unknown as TypedDocumentString<CompleteBlobUploadMutation, CompleteBlobUploadMutationVariables>;
export const BlobDownloadUrlDocument = new TypedDocumentString(`
    query BlobDownloadUrl($sha256: String!) {
  blobDownloadUrl(sha256: $sha256) {
    url
    expiresAt
  }
}
    `) as unknown as TypedDocumentString<BlobDownloadUrlQuery, BlobDownloadUrlQueryVariables>;
export const EvalSuitesDocument = new TypedDocumentString(`
    query EvalSuites {
  evalSuites {
    id
    name
    description
    createdAt
    latest {
      version
      frozen
      datasets {
        id
        position
        label
        split
        judge
        judgeModel
        sampleLimit
        dataset {
          id
          name
          version
        }
      }
    }
    versions {
      version
      frozen
    }
  }
}
    `) as unknown as TypedDocumentString<EvalSuitesQuery, EvalSuitesQueryVariables>;
export const EvalSuiteDocument = new TypedDocumentString(`
    query EvalSuite($name: String!) {
  evalSuite(name: $name) {
    id
    name
    description
    createdAt
    versions {
      id
      version
      frozen
      createdAt
      datasets {
        id
        position
        label
        split
        judge
        judgeEndpoint
        judgeModel
        judgeApiKeyEnv
        sampleLimit
        dataset {
          id
          name
          version
        }
      }
      results {
        id
        accuracy
        n
        meanResponseLength
        jobId
        createdAt
        subject {
          id
          kind
          label
        }
        entry {
          id
          position
          label
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<EvalSuiteQuery, EvalSuiteQueryVariables>;
export const CreateEvalSuiteDocument = new TypedDocumentString(`
    mutation CreateEvalSuite($input: CreateEvalSuiteInput!) {
  createEvalSuite(input: $input) {
    id
    name
    latest {
      version
      datasets {
        id
        position
        label
        split
        judge
        sampleLimit
      }
    }
  }
}
    `) as unknown as TypedDocumentString<CreateEvalSuiteMutation, CreateEvalSuiteMutationVariables>;
export const AddEvalSuiteVersionDocument = new TypedDocumentString(`
    mutation AddEvalSuiteVersion($input: AddEvalSuiteVersionInput!) {
  addEvalSuiteVersion(input: $input) {
    id
    version
    datasets {
      id
      position
      label
      split
      judge
      sampleLimit
    }
  }
}
    `) as unknown as TypedDocumentString<AddEvalSuiteVersionMutation, AddEvalSuiteVersionMutationVariables>;
export const EvaluationTableDocument = new TypedDocumentString(`
    query EvaluationTable($suite: String!, $version: Int, $subjects: [EvalSubjectInput!]) {
  evaluationTable(suite: $suite, version: $version, subjects: $subjects) {
    suite {
      name
    }
    version {
      version
      frozen
    }
    columns {
      label
      entry {
        id
      }
    }
    rows {
      label
      kind
      experiment {
        id
        name
      }
      subjects {
        id
        kind
        label
      }
      cells {
        mean
        halfWidth
        low
        high
        n
        best
      }
    }
  }
}
    `) as unknown as TypedDocumentString<EvaluationTableQuery, EvaluationTableQueryVariables>;
export const QueueSuiteEvaluationDocument = new TypedDocumentString(`
    mutation QueueSuiteEvaluation($input: QueueSuiteEvaluationInput!) {
  queueSuiteEvaluation(input: $input) {
    id
    kind
    status
    payload
  }
}
    `) as unknown as TypedDocumentString<QueueSuiteEvaluationMutation, QueueSuiteEvaluationMutationVariables>;
export const EvalExamplesDocument = new TypedDocumentString(`
    query EvalExamples($versionId: ID!, $subjectId: ID!, $entryId: ID!, $first: Int, $after: String) {
  evalExamples(
    versionId: $versionId
    subjectId: $subjectId
    entryId: $entryId
    first: $first
    after: $after
  ) {
    totalCount
    correctCount
    edges {
      node {
        externalId
        response
        correct
        responseTokens
        example {
          question
          answer
        }
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
    `) as unknown as TypedDocumentString<EvalExamplesQuery, EvalExamplesQueryVariables>;
export const EvaluationTableViewDocument = new TypedDocumentString(`
    query EvaluationTableView($suite: String!, $version: Int) {
  evaluationTable(suite: $suite, version: $version) {
    suite {
      name
      description
      versions {
        version
        frozen
      }
    }
    version {
      version
      frozen
    }
    columns {
      label
      entry {
        id
      }
    }
    rows {
      label
      kind
      experiment {
        id
        name
        algorithm
        studentSize
        student {
          ...StudentFields
        }
        gpus
        teachers
        config
      }
      subjects {
        id
        kind
        label
      }
      cells {
        mean
        halfWidth
        low
        high
        n
        best
      }
    }
  }
}
    fragment StudentFields on StudentInfo {
  family
  model
  loraRank
  dtype
  discBackbone
  gradientCheckpointing
  sharding
}`) as unknown as TypedDocumentString<EvaluationTableViewQuery, EvaluationTableViewQueryVariables>;
export const WorkersDocument = new TypedDocumentString(`
    query Workers {
  workers {
    id
    name
    gpus
    capabilities
    createdAt
    lastSeenAt
  }
}
    `) as unknown as TypedDocumentString<WorkersQuery, WorkersQueryVariables>;
export const JobsDocument = new TypedDocumentString(`
    query Jobs($status: JobStatus, $kind: JobKind, $first: Int = 50) {
  jobs(status: $status, kind: $kind, first: $first) {
    id
    kind
    status
    priority
    attempts
    maxAttempts
    error
    createdAt
    startedAt
    finishedAt
    requirements {
      gpus
      transformers
    }
    waitingFor
    leaseOwner {
      id
      name
    }
    run {
      id
      experiment {
        id
        name
      }
    }
  }
}
    `) as unknown as TypedDocumentString<JobsQuery, JobsQueryVariables>;