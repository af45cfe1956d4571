// `ril demo`: the end-to-end showcase on the embedded defaults (SQLite + local blobs under RIL_HOME):
//  1. builds Fashion-MNIST VQA (once) and imports it with both stand-in teacher caches (once);
//  2. starts the server (API, inference endpoint, in-process TypeScript worker) and a local Python worker;
//  3. trains a short RIL experiment and a Dr.GRPO baseline through the job queue, printing progress;
//  4. prints their comparison (final metrics, differing config), deploys the RIL student and answers a few
//     test images through POST /v1/infer next to the ground truth, with the latency;
//  5. scores both runs, the deployment and the two stand-in teachers on the suite fashion-mnist-by-question (one
//     evaluation dataset per question template, built from the test split; the runs also score it during training)
//     and prints its table, the paper's Table 1 in miniature;
//  6. keeps serving, and prints the URL, an admin key and a sample query.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadEnv } from '../../../../api/_lib/index.js';
import { buildFashionMnistVqa, DATASET_NAME } from '../data/fashionMnist/index.js';
import { mentionsAnswer } from '../data/fashionMnist/questions.js';
import { importDataset, localPathPolicy } from '../../../../api/_lib/index.js';
import { coverage, importTeacherResponses } from '../../../../api/_lib/index.js';
import { createApiKey } from '../../../../api/_lib/index.js';
import { createExperiment, startRun } from '../../../../api/_lib/index.js';
import { finals } from '../../../../api/_lib/index.js';
import { createSuite, evaluationTable, getSuite, queueSuiteEvaluation } from '../../../../api/_lib/index.js';
import { readEvalSets, writeEvalSets } from '../data/fashionMnist/evalSets.js';
import { formatTable } from '../evalTable.js';
import { fail, intOption, progressBar, table } from '../output.js';
import { startServer } from './serve.js';
import { REPO_ROOT, spawnPythonWorker, trainerPython } from '../../../../api/_lib/index.js';

const TEACHERS = ['teacher-concise', 'teacher-verbose'];
/** The demo's evaluation suite: a column per question template (its test examples). */
const SUITE = 'fashion-mnist-by-question';

/** The demo's two experiments: the same student, data and budget; only the algorithm differs. */
function demoExperiments(steps: number) {
  const plan = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'clients/cli/src/demo-plan.json'), 'utf8')) as { studentSize: string; config: Record<string, unknown> };
  // both runs score the demo's suite every 100 steps: the eval/suite/<name>/avg curve beside the rewards
  // --steps counts RL steps, as its help says: max_steps also counts the SFT warm start before them
  const rlSteps = steps > 0 ? { max_steps: Number(plan.config.sft_steps ?? 0) + steps } : {};
  const config: Record<string, unknown> = { ...plan.config, ...rlSteps, eval_suite: SUITE, eval_suite_every: 100 };
  return [
    { suffix: 'ril', algorithm: 'RIL', teachers: TEACHERS, studentSize: plan.studentSize, config },
    { suffix: 'dr-grpo', algorithm: 'DR_GRPO', teachers: [] as string[], studentSize: plan.studentSize, config },
  ];
}

/** `ril demo` (its description is in ../main.ts). */
export function demoCommand(demo: Command) {
  demo
    .option('--limit <n>', 'examples to build', intOption, 3000)
    .option('--steps <n>', 'RL steps per run (see clients/cli/src/demo-plan.json)', intOption, 0)
    .option('--no-train', 'skip training, deploying and inference (data + server only)')
    .action(async (opts) => {
      let worker: ChildProcess | undefined;
      try {
        // the demo's console is for a person: request logs stay off unless asked for (RIL_LOG_REQUESTS=1)
        process.env.RIL_LOG_REQUESTS ??= '0';
        const env = loadEnv();
        const dataDir = path.join(env.home, 'data', DATASET_NAME);
        if (!fs.existsSync(path.join(dataDir, 'examples.jsonl'))) {
          console.log(`building ${DATASET_NAME} (${opts.limit} examples) in ${dataDir}`);
          const bar = progressBar({}, 'images');
          await buildFashionMnistVqa({ out: dataDir, limit: opts.limit, onProgress: (d, t) => bar.update(d, t) });
          bar.stop();
        }
        const { platform, http, bootstrapKey } = await startServer({ quiet: true });
        const { db, blobs } = platform;
        let dataset = await db.prisma.dataset.findFirst({ where: { name: DATASET_NAME }, orderBy: { version: 'desc' } });
        if (!dataset) {
          dataset = await importDataset(db, blobs, { name: DATASET_NAME, path: path.join(dataDir, 'examples.jsonl'), maxImageBytes: env.RIL_MAX_IMAGE_BYTES, pathPolicy: localPathPolicy(env), description: 'Fashion-MNIST VQA (demo)' });
          for (const file of fs.readdirSync(path.join(dataDir, 'teachers')).sort()) {
            await importTeacherResponses(db, dataset.id, fs.readFileSync(path.join(dataDir, 'teachers', file), 'utf8'));
          }
          console.log(`imported ${dataset.name} v${dataset.version} (${dataset.exampleCount} examples) and its teacher caches`);
        }
        // ---- the evaluation datasets (one per question template) and the suite over them ----
        let evalSets = readEvalSets(dataDir);
        if (!evalSets.length) evalSets = await writeEvalSets(dataDir);
        const suiteDatasets = [];
        for (const set of evalSets) {
          let ds = await db.prisma.dataset.findFirst({ where: { name: set.name }, orderBy: { version: 'desc' } });
          if (!ds) {
            ds = await importDataset(db, blobs, { name: set.name, path: path.join(set.dir, 'examples.jsonl'), maxImageBytes: env.RIL_MAX_IMAGE_BYTES, pathPolicy: localPathPolicy(env), description: `Fashion-MNIST VQA test questions "${set.template}" (demo)` });
            for (const file of fs.readdirSync(path.join(set.dir, 'teachers')).sort()) {
              await importTeacherResponses(db, ds.id, fs.readFileSync(path.join(set.dir, 'teachers', file), 'utf8'));
            }
          }
          suiteDatasets.push({ datasetId: ds.id, split: 'test' });
        }
        const suiteExists = await getSuite(db, SUITE).then(() => true, () => false);
        if (!suiteExists) await createSuite(db, { name: SUITE, description: 'Fashion-MNIST VQA test questions, one column per question template (demo)', datasets: suiteDatasets }, env);
        console.log(`evaluation suite ${SUITE}: ${evalSets.map((s) => `${s.template} (${s.examples})`).join(', ')}`);
        const cov = await coverage(db, dataset.id, 1);
        const names = new Map((await db.prisma.teacher.findMany()).map((t) => [t.id, t.name]));
        // a fresh home's bootstrap admin key is the demo's; on a later run a new demo key is made (the old ones are hashed)
        const secret = bootstrapKey ?? (await createApiKey(db.prisma, `demo-${new Date().toISOString()}`, 'ADMIN')).secret;
        console.log(`\nRIL platform on ${http.url} (database: ${db.provider}, home: ${env.home})`);
        console.log(`dataset ${dataset.name} v${dataset.version}: ${dataset.exampleCount} examples (id ${dataset.id})`);
        for (const c of cov) console.log(`  teacher ${names.get(c.teacherId)}: ${c.covered}/${c.total} examples covered, ${c.responses} responses`);

        if (opts.train) {
          // ---- train RIL and Dr.GRPO through the queue, with a local Python worker ----
          const python = trainerPython();
          const workerKey = (await createApiKey(db.prisma, 'demo-worker', 'WORKER')).secret;
          worker = spawnPythonWorker(python, http.url, workerKey, ['--name', 'demo-worker', '--threads', '2'], ['ignore', 'ignore', 'pipe']);
          let workerLog = '';
          worker.stderr!.on('data', (d) => { workerLog = (workerLog + d).slice(-4000); });
          const trainingStarted = new Date();
          const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
          const runs: { name: string; id: string }[] = [];
          for (const e of demoExperiments(opts.steps)) {
            const exp = await createExperiment(db, { name: `demo-${e.suffix}-${stamp}`, datasetId: dataset.id, studentSize: e.studentSize, algorithm: e.algorithm, teachers: e.teachers, config: e.config }, env);
            runs.push({ name: exp.name, id: (await startRun(db, { experimentId: exp.id, seed: 0 })).id });
          }
          console.log(`\ntraining ${runs.map((r) => r.name).join(' and ')} (a local Python worker runs them one after the other)`);
          for (const run of runs) {
            const bar = progressBar({}, run.name.replace(`-${stamp}`, ''));
            for (;;) {
              const r = await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
              const last = await db.prisma.metric.findFirst({ where: { runId: run.id, name: 'reward/total' }, orderBy: { step: 'desc' } });
              bar.update(r.step, Math.max(r.totalSteps, 1), last ? `reward/total ${last.value.toFixed(2)}` : r.status.toLowerCase());
              if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(r.status)) {
                bar.stop();
                if (r.status !== 'SUCCEEDED') throw new Error(`${run.name} ${r.status}: ${r.error ?? ''}\n${workerLog}`);
                break;
              }
              if (worker.exitCode !== null) throw new Error(`the Python worker exited (${worker.exitCode}):\n${workerLog}`);
              await new Promise((res) => setTimeout(res, 1000));
            }
          }

          // ---- compare ----
          const fin = await finals(db, runs.map((r) => r.id));
          const metricNames = [...new Set(fin.flatMap((f) => f.metrics.map((m) => m.name)).filter((n) => n.startsWith('eval/') || n.startsWith('reward/')))].sort();
          console.log('\n' + table(['metric', ...runs.map((r) => r.name.replace(`-${stamp}`, ''))],
            metricNames.map((n) => [n, ...fin.map((f) => f.metrics.find((m) => m.name === n)?.value.toFixed(3) ?? '')])));

          // ---- deploy the RIL student and ask it about a few test images over HTTP ----
          const bundle = await db.prisma.artifact.findFirst({ where: { runId: runs[0].id, kind: 'BUNDLE' }, orderBy: { createdAt: 'desc' } });
          if (!bundle) throw new Error('the RIL run produced no bundle artifact');
          await platform.deployments.deploy({ name: 'fashion-student', artifactId: bundle.id, note: `demo ${runs[0].name}` });
          const inferKey = (await createApiKey(db.prisma, 'demo-inference', 'INFERENCE')).secret;
          // ten different test images, one question each (the first test question of each image whose template
          // comes next in turn), so the sample shows item names and the other question types on ten images
          const all = await db.prisma.example.findMany({ where: { datasetId: dataset.id, split: 'test' }, orderBy: { ordinal: 'asc' }, take: 200 });
          const byImage = new Map<string, typeof all>();
          for (const ex of all) byImage.set(ex.imageSha256, [...(byImage.get(ex.imageSha256) ?? []), ex]);
          const tests = [...byImage.values()].slice(0, 10).map((qs, i) => qs[i % qs.length]);
          const rows: string[][] = [];
          let correct = 0;
          for (const ex of tests) {
            const image = (await blobs.read(ex.imageSha256)).toString('base64');
            const t0 = performance.now();
            const res = await fetch(`${http.url}/v1/infer`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${inferKey}` },
              body: JSON.stringify({ deployment: 'fashion-student', image, question: ex.question, max_tokens: 48 }) });
            const body = await res.json() as { answer?: string; error?: { message: string } };
            // the judge's rule for these answers: the ground truth as a whole word of the answer
            const ok = body.answer !== undefined && mentionsAnswer(body.answer, ex.answer);
            correct += ok ? 1 : 0;
            rows.push([ex.question, ex.answer, body.answer ?? `error: ${body.error?.message}`, ok ? 'yes' : 'no', `${(performance.now() - t0).toFixed(1)} ms`]);
          }
          console.log('\ndeployed the RIL student as "fashion-student"; POST /v1/infer on test images:');
          console.log(table(['question', 'ground truth', 'student answer', 'correct', 'latency'], rows));
          console.log(`${correct}/${rows.length} answered correctly`);

          // ---- the suite table: both runs (queued as their TRAIN jobs completed), the deployment and the teachers ----
          const subjects = [
            ...runs.map((r) => ({ kind: 'RUN', runId: r.id })),
            { kind: 'DEPLOYMENT', deployment: 'fashion-student' },
            ...TEACHERS.map((teacher) => ({ kind: 'TEACHER', teacher })),
          ];
          // the runs' jobs were queued as their training ended; with ours, every EVALUATE job since the demo began
          const queued = await db.prisma.job.findMany({ where: { kind: 'EVALUATE', createdAt: { gte: trainingStarted } }, select: { id: true } });
          for (const subject of subjects.slice(runs.length)) queued.push(await queueSuiteEvaluation(db, { suite: SUITE, subject }, env));
          const bar = progressBar({}, `scoring on ${SUITE}`);
          for (;;) {
            const jobs = await db.prisma.job.findMany({ where: { id: { in: queued.map((j) => j.id) } } });
            const done = jobs.filter((j) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(j.status));
            bar.update(done.length, jobs.length, 'evaluation jobs');
            if (done.length === jobs.length) {
              bar.stop();
              for (const j of done.filter((d) => d.status !== 'SUCCEEDED')) console.log(`evaluation job ${j.id} ${j.status}: ${j.error ?? ''}`);
              break;
            }
            if (worker.exitCode !== null) throw new Error(`the Python worker exited (${worker.exitCode}):\n${workerLog}`);
            await new Promise((res) => setTimeout(res, 1000));
          }
          const suiteTable = await evaluationTable(db, { suite: SUITE, subjects }, env);
          console.log(`\n${SUITE} (accuracy %, test split, rule judge; best per column in bold):`);
          console.log(formatTable(suiteTable, 'markdown'));
        }

        console.log(`\nadmin key (shown once):\n  ${secret}\n`);
        console.log('try:');
        console.log(`  curl -s ${http.url}/graphql -H 'content-type: application/json' -H 'authorization: Bearer ${secret}' \\`);
        console.log(`    -d '{"query":"{ datasets { edges { node { name version exampleCount teacherCoverage { teacher { name } covered total } } } } }"}'`);
        console.log('\nCtrl-C stops the server.');
        const stopWorker = () => worker?.kill('SIGTERM');
        process.once('exit', stopWorker);
      } catch (err) {
        worker?.kill('SIGTERM');
        fail(err);
      }
    });
}
