-- Hand-edited: `migrate diff` rebuilt the Job table (new_Job, copy, drop, rename) because the column is not the
-- table's last in schema.prisma; SQLite's ADD COLUMN with a constant default is the same table for the client and
-- rewrites nothing. Column order does not matter to Prisma.
ALTER TABLE "Job" ADD COLUMN "gpus" INTEGER NOT NULL DEFAULT 0;

-- TRAIN jobs enqueued before this column existed keep the GPUs their config asked for (trainer config `gpus`),
-- so a queued multi-GPU job is not handed to a CPU worker after the upgrade.
UPDATE "Job" SET "gpus" = CAST(json_extract("payload", '$.config.gpus') AS INTEGER)
WHERE "kind" = 'TRAIN' AND json_valid("payload") AND json_type("payload", '$.config.gpus') = 'integer';
