-- CreateTable
CREATE TABLE "EvalSuite" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EvalSuite_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EvalSuiteVersion" (
    "id" TEXT NOT NULL,
    "suiteId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "frozen" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "EvalSuiteVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EvalSuiteDataset" (
    "id" TEXT NOT NULL,
    "versionId" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "datasetId" TEXT NOT NULL,
    "split" TEXT NOT NULL,
    "judge" TEXT NOT NULL,
    "judgeEndpoint" TEXT,
    "judgeModel" TEXT,
    "judgeApiKeyEnv" TEXT,
    "sampleLimit" INTEGER,

    CONSTRAINT "EvalSuiteDataset_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EvalSubject" (
    "id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "runId" TEXT,
    "deploymentName" TEXT,
    "revision" INTEGER,
    "endpoint" TEXT,
    "model" TEXT,
    "apiKeyEnv" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EvalSubject_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EvalResult" (
    "id" TEXT NOT NULL,
    "versionId" TEXT NOT NULL,
    "subjectId" TEXT NOT NULL,
    "entryId" TEXT NOT NULL,
    "accuracy" DOUBLE PRECISION NOT NULL,
    "n" INTEGER NOT NULL,
    "meanResponseLength" DOUBLE PRECISION,
    "jobId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "EvalResult_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "EvalSuite_name_key" ON "EvalSuite"("name");

-- CreateIndex
CREATE UNIQUE INDEX "EvalSuiteVersion_suiteId_version_key" ON "EvalSuiteVersion"("suiteId", "version");

-- CreateIndex
CREATE INDEX "EvalSuiteDataset_datasetId_idx" ON "EvalSuiteDataset"("datasetId");

-- CreateIndex
CREATE UNIQUE INDEX "EvalSuiteDataset_versionId_position_key" ON "EvalSuiteDataset"("versionId", "position");

-- CreateIndex
CREATE UNIQUE INDEX "EvalSubject_key_key" ON "EvalSubject"("key");

-- CreateIndex
CREATE INDEX "EvalSubject_runId_idx" ON "EvalSubject"("runId");

-- CreateIndex
CREATE INDEX "EvalResult_subjectId_idx" ON "EvalResult"("subjectId");

-- CreateIndex
CREATE INDEX "EvalResult_entryId_idx" ON "EvalResult"("entryId");

-- CreateIndex
CREATE UNIQUE INDEX "EvalResult_versionId_subjectId_entryId_key" ON "EvalResult"("versionId", "subjectId", "entryId");

-- AddForeignKey
ALTER TABLE "EvalSuiteVersion" ADD CONSTRAINT "EvalSuiteVersion_suiteId_fkey" FOREIGN KEY ("suiteId") REFERENCES "EvalSuite"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EvalSuiteDataset" ADD CONSTRAINT "EvalSuiteDataset_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "EvalSuiteVersion"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EvalSuiteDataset" ADD CONSTRAINT "EvalSuiteDataset_datasetId_fkey" FOREIGN KEY ("datasetId") REFERENCES "Dataset"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EvalResult" ADD CONSTRAINT "EvalResult_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "EvalSuiteVersion"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EvalResult" ADD CONSTRAINT "EvalResult_subjectId_fkey" FOREIGN KEY ("subjectId") REFERENCES "EvalSubject"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EvalResult" ADD CONSTRAINT "EvalResult_entryId_fkey" FOREIGN KEY ("entryId") REFERENCES "EvalSuiteDataset"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

