-- AlterTable
ALTER TABLE "Job" ADD COLUMN     "gpus" INTEGER NOT NULL DEFAULT 0;


-- TRAIN jobs enqueued before this column existed keep the GPUs their config asked for (trainer config `gpus`),
-- so a queued multi-GPU job is not handed to a CPU worker after the upgrade. (payload is TEXT holding JSON.)
UPDATE "Job" SET "gpus" = ("payload"::jsonb #>> '{config,gpus}')::numeric::int
WHERE "kind" = 'TRAIN' AND jsonb_typeof("payload"::jsonb #> '{config,gpus}') = 'number';
