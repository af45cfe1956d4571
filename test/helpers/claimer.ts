// A claimer process for the concurrency test: claims TRAIN jobs until none is left, prints their ids as JSON.
import { openDatabase } from '../../api/_lib/db/index.js';
import { claim } from '../../api/_lib/jobs/queue.js';

const db = await openDatabase({ home: process.env.RIL_HOME!, databaseUrl: process.env.DATABASE_URL || undefined, migrate: 'skip' });
const worker = process.argv[2];
const got: string[] = [];
// start together: wait for the go file's timestamp
const start = Number(process.env.CLAIM_START_AT ?? 0);
while (Date.now() < start) await new Promise((r) => setTimeout(r, 5));
for (;;) {
  const job = await claim(db, worker, ['TRAIN'], 60, { backoffBaseMs: 0, backoffMaxMs: 0 });
  if (!job) break;
  got.push(job.id);
}
await db.close();
process.stdout.write(JSON.stringify(got));
