// GraphQL type -> the backing model each resolver receives as its parent (used by codegen's `mappers`).
import type { ApiKey, Artifact, Blob, Dataset, Deployment, DeploymentRevision, EvalExampleResult, EvalResult, EvalSubject, EvalSuite, EvalSuiteDataset, EvalSuiteVersion, Example, Experiment, Job, Run, Teacher, TeacherResponse, Worker } from '../../../generated/sqlite/index.js';
import type { EvaluationTableModel as TableModel } from '../evals/table.js';

export type DatasetModel = Dataset;
export type ExampleModel = Pick<Example, 'id' | 'datasetId' | 'externalId' | 'ordinal' | 'split' | 'imageSha256' | 'question' | 'answer'>;
export type TeacherModel = Teacher;
export type TeacherResponseModel = TeacherResponse;
export type ApiKeyModel = ApiKey;
export type TeacherCoverageModel = { teacherId: string; datasetId: string; covered: number; total: number; responses: number };
export type DatasetStatsModel = { datasetId: string };
export type ArtifactModel = Artifact;
export type DeploymentModel = Deployment;
export type DeploymentRevisionModel = DeploymentRevision;
export type ExperimentModel = Experiment;
export type RunModel = Run;
export type JobModel = Job;
export type WorkerModel = Worker;
export type BlobModel = Blob;
export type EvalSuiteModel = EvalSuite;
export type EvalSuiteVersionModel = EvalSuiteVersion;
export type EvalSuiteDatasetModel = EvalSuiteDataset;
export type EvalSubjectModel = EvalSubject;
export type EvalResultModel = EvalResult;
/** A record with its example's externalId (the API's name for an example). */
export type EvalExampleRecordModel = EvalExampleResult & { externalId: string };
export type EvaluationTableModel = TableModel;
export type EvaluationColumnModel = TableModel['columns'][number];
export type EvaluationRowModel = TableModel['rows'][number];
