// `ril demo`: the end-to-end showcase on the embedded defaults. Builds Fashion-MNIST VQA (once), imports it
// and both stand-in teacher caches (once), starts the server, prints the URL, a key and a sample query.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadEnv } from '../../../../api/env.js';
import { buildFashionMnistVqa, DATASET_NAME } from '../../../../api/services/fashionMnist.js';
import { importDataset } from '../../../../api/services/datasets.js';
import { coverage, importTeacherResponses } from '../../../../api/services/teachers.js';
import { createApiKey } from '../../../../api/services/auth.js';
import { fail, progressBar } from '../output.js';
import { startServer } from './serve.js';

export function demoCommand(program: Command) {
  program.command('demo').description('build + import Fashion-MNIST VQA and both teacher caches, then serve')
    .option('--limit <n>', 'examples to build', (v) => Number(v), 3000)
    .action(async (opts) => {
      try {
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
          dataset = await importDataset(db, blobs, { name: DATASET_NAME, path: path.join(dataDir, 'examples.jsonl'), maxImageBytes: env.RIL_MAX_IMAGE_BYTES, description: 'Fashion-MNIST VQA (demo)' });
          for (const file of fs.readdirSync(path.join(dataDir, 'teachers')).sort()) {
            await importTeacherResponses(db, dataset.id, fs.readFileSync(path.join(dataDir, 'teachers', file), 'utf8'));
          }
          console.log(`imported ${dataset.name} v${dataset.version} (${dataset.exampleCount} examples) and its teacher caches`);
        }
        const cov = await coverage(db, dataset.id, 1);
        const names = new Map((await db.prisma.teacher.findMany()).map((t) => [t.id, t.name]));
        // a fresh home's bootstrap admin key is the demo's; on a later run a new demo key is made (the old ones are hashed)
        const secret = bootstrapKey ?? (await createApiKey(db.prisma, `demo-${new Date().toISOString()}`, 'ADMIN')).secret;
        console.log(`\nRIL platform on ${http.url} (database: ${db.provider}, home: ${env.home})`);
        console.log(`dataset ${dataset.name} v${dataset.version}: ${dataset.exampleCount} examples (id ${dataset.id})`);
        for (const c of cov) console.log(`  teacher ${names.get(c.teacherId)}: ${c.covered}/${c.total} examples covered, ${c.responses} responses`);
        console.log(`\nadmin key (shown once):\n  ${secret}\n`);
        console.log('try:');
        console.log(`  curl -s ${http.url}/graphql -H 'content-type: application/json' -H 'authorization: Bearer ${secret}' \\`);
        console.log(`    -d '{"query":"{ datasets { edges { node { name version exampleCount teacherCoverage { teacher { name } covered total } } } } }"}'`);
        console.log('\nCtrl-C stops the server.');
      } catch (err) { fail(err); }
    });
}
