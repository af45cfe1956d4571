import type { Command } from 'commander';
import { exportDataset, importDataset, localPathPolicy, splitCounts } from '../../../../api/_lib/index.js';
import { fail, print, progressBar, table } from '../output.js';
import { namesRemote, remote, remoteOptions } from '../remote.js';
import { datasetFile, uploadAndImport } from './datasetUpload.js';
import { withLocal } from '../local.js';

/** `ril datasets` (the group's description is in ../main.ts). */
export function datasetsCommand(datasets: Command) {

  remoteOptions(datasets.command('import <file>')
    .description('import a JSONL dataset (blueprint format; images relative to the file), or a folder holding examples.jsonl; '
      + 'against an API (--api-url / RIL_API_URL) the images and the JSONL are uploaded first')
    .requiredOption('--name <name>', 'dataset name (a re-import makes a new version)')
    .option('--description <text>')
    .option('--json', 'JSON output'))
    .action(async (arg: string, opts) => {
      const bar = progressBar(opts, `upload ${opts.name}`);
      try {
        const file = datasetFile(arg);
        const ds = namesRemote(opts)
          ? await uploadAndImport(remote(opts), file, { name: opts.name, description: opts.description }, bar)
          : await withLocal(({ db, blobs, env }) =>
            importDataset(db, blobs, { name: opts.name, path: file, description: opts.description, maxImageBytes: env.RIL_MAX_IMAGE_BYTES, pathPolicy: localPathPolicy(env) }));
        bar.stop();
        print(opts, ds, () => `imported ${ds.name} v${ds.version}: ${ds.exampleCount} examples (id ${ds.id})`);
      } catch (err) { bar.stop(); fail(err); }
    });

  datasets.command('list').description('list datasets with their splits').option('--json', 'JSON output')
    .action(async (opts) => {
      try {
        const rows = await withLocal(async ({ db }) => {
          const all = await db.prisma.dataset.findMany({ orderBy: [{ name: 'asc' }, { version: 'desc' }] });
          return Promise.all(all.map(async (d) => ({ ...d, splits: await splitCounts(db, d.id) })));
        });
        print(opts, rows, () => table(['id', 'name', 'version', 'examples', 'train/val/test', 'created'],
          rows.map((d) => [d.id, d.name, d.version, d.exampleCount, d.splits.map((s) => s.count).join('/'), d.createdAt.toISOString()])));
      } catch (err) { fail(err); }
    });

  datasets.command('export <id>').description("write JSONL + images + teacher caches (the trainer's input directory)")
    .requiredOption('--out <dir>', 'output directory')
    .option('--json', 'JSON output')
    .action(async (id: string, opts) => {
      try {
        const summary = await withLocal(({ db, blobs }) => exportDataset(db, blobs, id, opts.out));
        print(opts, summary, () => `exported ${summary.examples} examples, ${summary.images} images, ${summary.responses} teacher responses (${summary.teachers.join(', ') || 'no teachers'}) to ${summary.out}`);
      } catch (err) { fail(err); }
    });
}
