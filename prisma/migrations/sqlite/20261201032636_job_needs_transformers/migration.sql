-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Job" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "priority" INTEGER NOT NULL DEFAULT 0,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "maxAttempts" INTEGER NOT NULL DEFAULT 3,
    "leaseOwner" TEXT,
    "leaseExpiresAt" DATETIME,
    "heartbeatAt" DATETIME,
    "availableAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "cancelRequested" BOOLEAN NOT NULL DEFAULT false,
    "error" TEXT,
    "result" TEXT,
    "runId" TEXT,
    "gpus" INTEGER NOT NULL DEFAULT 0,
    "needsTransformers" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "startedAt" DATETIME,
    "finishedAt" DATETIME
);
INSERT INTO "new_Job" ("attempts", "availableAt", "cancelRequested", "createdAt", "error", "finishedAt", "gpus", "heartbeatAt", "id", "kind", "leaseExpiresAt", "leaseOwner", "maxAttempts", "payload", "priority", "result", "runId", "startedAt", "status", "updatedAt") SELECT "attempts", "availableAt", "cancelRequested", "createdAt", "error", "finishedAt", "gpus", "heartbeatAt", "id", "kind", "leaseExpiresAt", "leaseOwner", "maxAttempts", "payload", "priority", "result", "runId", "startedAt", "status", "updatedAt" FROM "Job";
DROP TABLE "Job";
ALTER TABLE "new_Job" RENAME TO "Job";
CREATE INDEX "Job_status_kind_availableAt_idx" ON "Job"("status", "kind", "availableAt");
CREATE INDEX "Job_leaseOwner_idx" ON "Job"("leaseOwner");
CREATE INDEX "Job_runId_idx" ON "Job"("runId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

