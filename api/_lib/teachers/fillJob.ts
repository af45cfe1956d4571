// A teacher fill as a queued TEACHER_FILL job: the mutation checks the request and enqueues it; a drain (ril serve,
// `ril worker --kind teacher-fill`, the cron function) turns the job's payload back into fill options. Long work
// never runs inside a request: a fill can take hours, a request (or a function) a minute at most.
import type { Database } from '../db/index.js';
import { badInput } from '../errors.js';
import { enqueue } from '../jobs/queue.js';
import { checkFill, type FillOptions } from './fill.js';

/** What a TEACHER_FILL job's payload holds (the FillTeacherCacheInput, defaults applied). */
export interface FillJobPayload {
  datasetId: string;
  teacher: string;
  samplesPerExample: number;
  split?: 'train' | 'val' | 'test';
  limit?: number;
  concurrency: number;
}

export interface FillRequest {
  datasetId: string;
  teacher: string;
  samplesPerExample?: number | null;
  split?: 'train' | 'val' | 'test' | null;
  limit?: number | null;
  concurrency?: number | null;
}

function toPayload(input: FillRequest): FillJobPayload {
  return {
    datasetId: input.datasetId, teacher: input.teacher, samplesPerExample: input.samplesPerExample ?? 1,
    ...(input.split ? { split: input.split } : {}), ...(input.limit != null ? { limit: input.limit } : {}),
    concurrency: input.concurrency ?? 4,
  };
}

/** Checks the request (BAD_USER_INPUT / NOT_FOUND now, not later in a worker) and queues the job. */
export async function queueTeacherFill(db: Database, input: FillRequest) {
  const payload = toPayload(input);
  await checkFill(db.prisma, payload);
  return enqueue(db, { kind: 'TEACHER_FILL', payload });
}

/** The fill options of a job's payload (JSON text). */
export function fillOptionsOf(payloadJson: string): FillOptions {
  let raw: unknown;
  try {
    raw = JSON.parse(payloadJson);
  } catch {
    throw badInput('the TEACHER_FILL job payload is not JSON');
  }
  const p = raw as Partial<FillJobPayload>;
  if (typeof p?.datasetId !== 'string' || typeof p.teacher !== 'string') throw badInput('the TEACHER_FILL job payload needs datasetId and teacher');
  return toPayload(p as FillRequest);
}
