// `ril infer`: ask a deployed student one question about one image; the answer streams to stdout as it is
// generated (POST /v1/infer with server-sent events, through the SDK), the timings follow on stderr.
import fs from 'node:fs';
import type { Command } from 'commander';
import type { InferResponse } from '../../../sdk/src/index.js';
import { fail, intOption, numberOption } from '../output.js';
import { remote, remoteOptions } from '../remote.js';

/** `ril infer` (its description is in ../main.ts). */
export function inferCommand(infer: Command) {
  remoteOptions(infer)
    .requiredOption('--deployment <name>', 'deployment name')
    .requiredOption('--image <file>', 'PNG, JPEG or WebP image')
    .requiredOption('--question <text>', 'the question')
    .option('--max-tokens <n>', 'generation budget', intOption)
    .option('--temperature <t>', '0 = greedy (default)', numberOption)
    .option('--seed <n>', 'sampling seed', intOption)
    .option('--no-stream', 'wait for the whole answer')
    .option('--json', 'print the final JSON answer (with timings) instead of streaming text')
    .action(async (opts) => {
      try {
        const ril = remote(opts);
        const request = {
          deployment: opts.deployment, image: new Uint8Array(fs.readFileSync(opts.image)), question: opts.question,
          max_tokens: opts.maxTokens, temperature: opts.temperature, seed: opts.seed,
        };
        let result: InferResponse;
        if (opts.json || !opts.stream) {
          result = await ril.infer(request);
          if (opts.json) return void process.stdout.write(JSON.stringify(result, null, 2) + '\n');
          process.stdout.write(result.answer);
        } else {
          result = await ril.infer(request, { onToken: (text) => process.stdout.write(text) });
        }
        process.stdout.write('\n');
        const t = result.timings;
        process.stderr.write(`${result.deployment} rev ${result.revision}: ${result.tokens} tokens (${result.finish_reason}), ` +
          `TTFT ${t.ttft_ms.toFixed(1)} ms, total ${t.total_ms.toFixed(1)} ms${t.decode_tokens_per_s ? `, ${t.decode_tokens_per_s.toFixed(0)} tok/s` : ''}\n`);
      } catch (err) { fail(err); }
    });
}
