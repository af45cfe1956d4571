-- AlterTable
ALTER TABLE "DeploymentRevision" ADD COLUMN "variant" TEXT;

