// GraphQL Code Generator: resolver types from schema.graphql, mapped onto the Prisma models; and the SDK's typed
// documents (client preset) from clients/sdk/src/operations.graphql.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  // Generated relative imports end in .js (NodeNext resolution).
  emitLegacyCommonJSImports: false,
  generates: {
    'api/_lib/graphql/generated/resolvers-types.ts': {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        useIndexSignature: true,
        contextType: '../context.js#Context',
        mappers: {
          Dataset: '../mappers.js#DatasetModel',
          Example: '../mappers.js#ExampleModel',
          Teacher: '../mappers.js#TeacherModel',
          TeacherResponse: '../mappers.js#TeacherResponseModel',
          ApiKey: '../mappers.js#ApiKeyModel',
          TeacherCoverage: '../mappers.js#TeacherCoverageModel',
          DatasetStats: '../mappers.js#DatasetStatsModel',
          Artifact: '../mappers.js#ArtifactModel',
          Deployment: '../mappers.js#DeploymentModel',
          DeploymentRevision: '../mappers.js#DeploymentRevisionModel',
          Experiment: '../mappers.js#ExperimentModel',
          Run: '../mappers.js#RunModel',
          Job: '../mappers.js#JobModel',
          Worker: '../mappers.js#WorkerModel',
          Blob: '../mappers.js#BlobModel',
          EvalSuite: '../mappers.js#EvalSuiteModel',
          EvalSuiteVersion: '../mappers.js#EvalSuiteVersionModel',
          EvalSuiteDataset: '../mappers.js#EvalSuiteDatasetModel',
          EvalSubject: '../mappers.js#EvalSubjectModel',
          EvalResult: '../mappers.js#EvalResultModel',
          EvalExampleRecord: '../mappers.js#EvalExampleRecordModel',
          EvaluationTable: '../mappers.js#EvaluationTableModel',
          EvaluationColumn: '../mappers.js#EvaluationColumnModel',
          EvaluationRow: '../mappers.js#EvaluationRowModel',
        },
        scalars: { DateTime: 'Date', JSON: 'unknown' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
    // Typed documents as strings (documentMode: 'string'): no graphql runtime in the browser bundle.
    'clients/sdk/src/generated/': {
      preset: 'client',
      documents: 'clients/sdk/src/operations.graphql',
      presetConfig: { fragmentMasking: false, gqlTagName: 'graphql' },
      config: {
        documentMode: 'string',
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: 'string', JSON: 'unknown' },
      },
    },
  },
};
export default config;
