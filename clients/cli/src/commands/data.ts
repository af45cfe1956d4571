import type { Command } from 'commander';
import { buildFashionMnistVqa, DEFAULT_LIMIT, DEFAULT_SEED } from '../data/fashionMnist/index.js';
import { writeEvalSets } from '../data/fashionMnist/evalSets.js';
import { fail, print, progressBar, intOption } from '../output.js';


/** `ril data`: demo datasets (the group's description is in ../main.ts). */
export function dataCommand(data: Command) {
  data.command('fashion-mnist').description("Fashion-MNIST VQA from Debian's dataset-fashion-mnist, with two scripted stand-in teacher caches")
    .requiredOption('--out <dir>', 'output directory (new or empty)')
    .option('--limit <n>', 'number of examples', intOption, DEFAULT_LIMIT)
    .option('--seed <s>', 'random seed', intOption, DEFAULT_SEED)
    .option('--samples <k>', 'samples per question per teacher', intOption, 4)
    .option('--questions <set>', "question set: basic (the five original templates) or extended (adds harder templates on confusable classes and a verbose teacher that reasons from visible attributes)", 'basic')
    .option('--eval-sets', 'also write one evaluation dataset per question template under OUT/eval/<template>/ (the test examples of that template; a suite over them has a column per kind of question)')
    .option('--json', 'JSON output')
    .action(async (opts) => {
      const bar = progressBar(opts, 'images');
      try {
        const r = await buildFashionMnistVqa({ out: opts.out, limit: opts.limit, seed: opts.seed, samplesPerTeacher: opts.samples, questions: opts.questions, onProgress: (d, t) => bar.update(d, t) });
        bar.stop();
        const evalSets = opts.evalSets ? await writeEvalSets(r.out) : [];
        print(opts, { ...r, evalSets }, () => `wrote ${r.examples} examples (train ${r.splits.train}, val ${r.splits.val}, test ${r.splits.test}) and ${r.responses} responses from ${r.teachers.join(', ')} to ${r.out}`
          + evalSets.map((s) => `\n  eval set ${s.name}: ${s.examples} test examples in ${s.dir}`).join(''));
      } catch (err) { bar.stop(); fail(err); }
    });
}
