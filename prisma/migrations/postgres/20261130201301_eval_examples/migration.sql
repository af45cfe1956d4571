-- AlterTable
ALTER TABLE "EvalSubject" ADD COLUMN     "teacherName" TEXT;

-- CreateTable
CREATE TABLE "EvalExampleResult" (
    "id" TEXT NOT NULL,
    "versionId" TEXT NOT NULL,
    "subjectId" TEXT NOT NULL,
    "entryId" TEXT NOT NULL,
    "exampleId" TEXT NOT NULL,
    "response" TEXT NOT NULL,
    "correct" BOOLEAN NOT NULL,
    "responseTokens" INTEGER,
    "jobId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EvalExampleResult_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "EvalExampleResult_subjectId_idx" ON "EvalExampleResult"("subjectId");

-- CreateIndex
CREATE INDEX "EvalExampleResult_entryId_idx" ON "EvalExampleResult"("entryId");

-- CreateIndex
CREATE UNIQUE INDEX "EvalExampleResult_versionId_subjectId_entryId_exampleId_key" ON "EvalExampleResult"("versionId", "subjectId", "entryId", "exampleId");

-- AddForeignKey
ALTER TABLE "EvalExampleResult" ADD CONSTRAINT "EvalExampleResult_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "EvalSuiteVersion"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EvalExampleResult" ADD CONSTRAINT "EvalExampleResult_subjectId_fkey" FOREIGN KEY ("subjectId") REFERENCES "EvalSubject"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EvalExampleResult" ADD CONSTRAINT "EvalExampleResult_entryId_fkey" FOREIGN KEY ("entryId") REFERENCES "EvalSuiteDataset"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EvalExampleResult" ADD CONSTRAINT "EvalExampleResult_exampleId_fkey" FOREIGN KEY ("exampleId") REFERENCES "Example"("id") ON DELETE CASCADE ON UPDATE CASCADE;

