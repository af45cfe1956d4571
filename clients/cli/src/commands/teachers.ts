import type { Command } from 'commander';
import { FillTeacherCacheDocument } from '../../../sdk/src/index.js';
import { coverage, importTeacherResponses, localPathPolicy, readCacheFile, registerTeacher } from '../../../../api/_lib/index.js';
import { queueTeacherFill } from '../../../../api/_lib/index.js';
import { fail, print, progressBar, table, intOption } from '../output.js';
import { withLocal } from '../local.js';
import { namesRemote, remote, remoteOptions } from '../remote.js';
import { drainLocally, watchRemotely, type FillJobView } from './teacherFillJob.js';


/** `ril teachers` (the group's description is in ../main.ts). */
export function teachersCommand(teachers: Command) {

  teachers.command('register').description('register a teacher (IMPORTED, or ENDPOINT: an OpenAI-compatible chat endpoint)')
    .requiredOption('--name <name>').requiredOption('--model <model>')
    .option('--kind <kind>', 'IMPORTED | ENDPOINT', 'IMPORTED')
    .option('--base-url <url>', 'OpenAI-compatible base URL, e.g. http://host:8000/v1')
    .option('--api-key-env <VAR>', 'name of the env var holding the endpoint key (the key is never stored)')
    .option('--json', 'JSON output')
    .action(async (opts) => {
      try {
        const t = await withLocal(({ db, env }) => registerTeacher(db, { name: opts.name, model: opts.model, kind: opts.kind, baseUrl: opts.baseUrl, apiKeyEnv: opts.apiKeyEnv }, env));
        print(opts, t, () => `teacher ${t.name} (${t.kind}, model ${t.model})`);
      } catch (err) { fail(err); }
    });

  teachers.command('list').option('--json', 'JSON output').action(async (opts) => {
    try {
      const rows = await withLocal(({ db }) => db.prisma.teacher.findMany({ orderBy: { name: 'asc' } }));
      print(opts, rows, () => table(['name', 'kind', 'model', 'base URL', 'key env'], rows.map((t) => [t.name, t.kind, t.model, t.baseUrl, t.apiKeyEnv])));
    } catch (err) { fail(err); }
  });

  teachers.command('import <file>').description('import a teacher cache JSONL into a dataset (all or nothing)')
    .requiredOption('--dataset <id>').option('--json', 'JSON output')
    .action(async (file: string, opts) => {
      try {
        const r = await withLocal(async ({ db, env }) => importTeacherResponses(db, opts.dataset, await readCacheFile(file, localPathPolicy(env))));
        print(opts, r, () => `imported ${r.imported} responses`);
      } catch (err) { fail(err); }
    });

  remoteOptions(teachers.command('fill')
    .description('queue a TEACHER_FILL job that asks an ENDPOINT teacher for the responses missing from the cache (resumable); '
      + 'locally it is drained in this process, against an API (--api-url / RIL_API_URL) the server drains it and this command watches')
    .requiredOption('--dataset <id>').requiredOption('--teacher <name>')
    .option('--samples <k>', 'samples per example', intOption, 1)
    .option('--split <split>', 'train | val | test')
    .option('--limit <n>', 'at most n examples', intOption)
    .option('--concurrency <n>', 'requests in flight', intOption, 4)
    .option('--no-wait', 'queue the job and return (ril serve, `ril worker --kind teacher-fill` or the cron function drains it)')
    .option('--json', 'JSON output'))
    .action(async (opts) => {
      const input = { datasetId: opts.dataset, teacher: opts.teacher, samplesPerExample: opts.samples, split: opts.split, limit: opts.limit, concurrency: opts.concurrency };
      const bar = progressBar(opts, `fill ${opts.teacher}`);
      try {
        let job: FillJobView;
        if (namesRemote(opts)) {
          const client = remote(opts);
          const queued = (await client.request(FillTeacherCacheDocument, { input })).fillTeacherCache;
          job = opts.wait ? await watchRemotely(client, queued.id, bar) : queued;
        } else {
          job = await withLocal(async (local) => {
            const queued = await queueTeacherFill(local.db, input);
            return opts.wait ? drainLocally(local, queued.id, bar) : { ...queued, result: null };
          });
        }
        bar.stop();
        print(opts, job, () => describeJob(job));
        if (opts.wait && job.status !== 'SUCCEEDED') process.exitCode = 1;
      } catch (err) { bar.stop(); fail(err); }
    });

  teachers.command('coverage').description('examples with at least k cached responses, per teacher')
    .requiredOption('--dataset <id>').option('--min-samples <k>', 'k', intOption, 1).option('--json', 'JSON output')
    .action(async (opts) => {
      try {
        const rows = await withLocal(async ({ db }) => {
          const cov = await coverage(db, opts.dataset, opts.minSamples);
          const names = new Map((await db.prisma.teacher.findMany()).map((t) => [t.id, t.name]));
          return cov.map((c) => ({ teacher: names.get(c.teacherId), covered: c.covered, total: c.total, responses: c.responses }));
        });
        print(opts, rows, () => table(['teacher', `covered (>= ${opts.minSamples})`, 'examples', 'responses'], rows.map((r) => [r.teacher, r.covered, r.total, r.responses])));
      } catch (err) { fail(err); }
    });
}

function describeJob(job: FillJobView): string {
  const r = job.result as { requested?: number; filled?: number; alreadyCached?: number; failed?: number; errors?: string[] } | null;
  if (job.status === 'SUCCEEDED' && r) return `job ${job.id} SUCCEEDED: asked ${r.requested}, filled ${r.filled}, already cached ${r.alreadyCached}, failed ${r.failed}`;
  if (job.status === 'QUEUED' || job.status === 'LEASED') return `job ${job.id} ${job.status}${job.error ? ` (${job.error})` : ''}: it is drained by ril serve, \`ril worker --kind teacher-fill\` or the cron function`;
  return `job ${job.id} ${job.status}${job.error ? `: ${job.error}` : ''}`;
}
