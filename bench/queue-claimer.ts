// One claimer process of the queue benchmark (forked by bench/queue.ts with an IPC channel): opens its own
// connection pool, says `ready`, waits for `go`, claims and completes until the queue is empty, sends its report.
import { openDatabase } from '../api/_lib/db/index.js';
import { claimAndCompleteAll, warmUp } from './queue-loop.js';

const worker = process.argv[2];
if (!worker || !process.send) throw new Error('usage: forked by bench/queue.ts with a worker name');
const send = (msg: unknown) => new Promise<void>((resolve, reject) => process.send!(msg, (err: Error | null) => (err ? reject(err) : resolve())));

const db = await openDatabase({ home: process.env.RIL_HOME!, databaseUrl: process.env.DATABASE_URL || undefined, migrate: 'skip' });
try {
  await warmUp(db);
  const go = new Promise<void>((resolve) => process.once('message', () => resolve()));
  await send({ type: 'ready' });
  await go;
  const report = await claimAndCompleteAll(db, worker);
  await send({ type: 'done', report });
} catch (err) {
  await send({ type: 'error', message: (err as Error).stack ?? String(err) });
  process.exitCode = 1;
} finally {
  await db.close();
  process.disconnect();
}
