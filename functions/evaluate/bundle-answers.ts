// Answers of a student bundle, produced exactly as the inference endpoint produces them: the same runtime of the
// bundle's family (StudentRuntime: onnxruntime-node sessions, tokenizer.json, sampler; HfRuntime: transformers.js
// with the model's processor and chat template), the same prompt step and the same image preprocessing, greedy. The Python worker runs it to score a DEPLOYMENT subject of an evaluation suite, so a deployment's number
// in a table is the number its users get (not a re-implementation's).
//
//   node --import tsx functions/evaluate/bundle-answers.ts --bundle DIR --cases CASES.jsonl [--threads N] [--variant V]
//   (--variant: a Hugging Face bundle's variant, default its default_variant)
//
// CASES.jsonl: {"image": "<path of a PNG/JPEG/WebP>", "question": "...", "max_tokens": n | null} per line
//   (max_tokens null: as many as the model allows after the question; it stops at <eos> anyway).
// stdout:      {"answer": "...", "tokens": n, "finish_reason": "stop" | "length"} per case, in order.
// A bad case or bundle: a message on stderr and exit status 1 (nothing half-written is mistaken for a result:
// the caller counts the lines).
import fs from 'node:fs';
import readline from 'node:readline';
import { HfRuntime, isHfManifest, preprocessImage, promptOf, readManifest, StudentRuntime } from '../../api/_lib/server.js';

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(name);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback !== undefined) return fallback;
  throw new Error(`missing ${name} (usage: bundle-answers.ts --bundle DIR --cases CASES.jsonl [--threads N])`);
}

const GREEDY = { temperature: 0, topP: 1, topK: 0, repetitionPenalty: 1 };

interface Case { image: string; question: string; max_tokens?: number | null }
interface Answer { answer: string; tokens: number; finish_reason: string }
/** One family's runtime behind one call per case; `close` releases it. */
interface Answerer { answer(c: Case): Promise<Answer>; close(): Promise<void> }

/** A Hugging Face bundle: the endpoint's HfRuntime, one user turn per case. */
async function hfAnswerer(dir: string, threads: number): Promise<Answerer> {
  const runtime = await HfRuntime.load(dir, { threads, variant: arg('--variant', '') || null, maxImagePixels: 4096 * 4096 });
  const release = runtime.use()!;
  return {
    async answer(c) {
      const g = await runtime.generate({
        image: fs.readFileSync(c.image), turns: [{ role: 'user', text: c.question }], maxTokens: c.max_tokens ?? runtime.context,
        strictMaxTokens: c.max_tokens != null, sampling: GREEDY,
      });
      return { answer: g.text, tokens: g.tokenIds.length, finish_reason: g.finishReason };
    },
    async close() { release(); runtime.retire(); },
  };
}

/** A built-in bundle: the endpoint's StudentRuntime with its prompt step and image preprocessing. */
async function builtinAnswerer(dir: string, threads: number): Promise<Answerer> {
  const runtime = await StudentRuntime.load(dir, { threads });
  const release = runtime.use()!;
  return {
    async answer(c) {
      const { promptIds, budget } = promptOf(runtime, c.question, c.max_tokens);
      const pixelValues = await preprocessImage(fs.readFileSync(c.image), runtime.manifest.preprocessing);
      const g = await runtime.generate({ pixelValues, promptIds, maxTokens: c.max_tokens ?? budget, sampling: GREEDY });
      return { answer: runtime.tokenizer.decode(g.tokenIds), tokens: g.tokenIds.length, finish_reason: g.finishReason };
    },
    async close() { release(); await runtime.retire(); },
  };
}

async function main() {
  const dir = arg('--bundle');
  const threads = Number(arg('--threads', '1'));
  // the family from the manifest alone (each runtime's load verifies every file)
  const answerer = await (isHfManifest(readManifest(dir)) ? hfAnswerer : builtinAnswerer)(dir, threads);
  // opened once the model is loaded: readline drops lines read before iteration starts
  const lines = readline.createInterface({ input: fs.createReadStream(arg('--cases')), crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of lines) {
      if (!line.trim()) continue;
      n += 1;
      process.stdout.write(`${JSON.stringify(await answerer.answer(JSON.parse(line) as Case))}\n`);
    }
  } catch (err) {
    throw new Error(`case ${n}: ${(err as Error).message}`);
  } finally {
    await answerer.close();
  }
}

main().catch((err) => {
  process.stderr.write(`bundle-answers: ${(err as Error).message}\n`);
  process.exit(1);
});
