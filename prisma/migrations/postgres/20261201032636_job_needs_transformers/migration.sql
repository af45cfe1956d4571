-- AlterTable
ALTER TABLE "Job" ADD COLUMN     "needsTransformers" BOOLEAN NOT NULL DEFAULT false;

