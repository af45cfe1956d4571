// One-line descriptions the CLI and the dashboard share, so a student or a worker reads the same everywhere.
import type { StudentFieldsFragment } from './generated/graphql.js';

/**
 * "builtin nano", or "hf HuggingFaceTB/SmolVLM-256M-Instruct LoRA r16 bf16" (full fine-tuning says "full"; dtype only
 * when not auto; "disc lora" when the discriminator shares the student's backbone; "fsdp" when its weights are sharded
 * across the ranks).
 */
export function describeStudent(s: StudentFieldsFragment): string {
  if (s.family === 'BUILTIN') return `builtin ${s.model}`;
  const parts = ['hf', s.model, s.loraRank > 0 ? `LoRA r${s.loraRank}` : 'full'];
  if (s.dtype !== 'auto') parts.push(s.dtype);
  if (s.discBackbone === 'lora') parts.push('disc lora');
  if (s.sharding === 'fsdp') parts.push('fsdp');
  return parts.join(' ');
}

/** "2 GPUs" / "any worker" (0: CPU included): what a run of the experiment waits for. */
export const describeGpus = (gpus: number): string => (gpus > 0 ? `${gpus} GPU${gpus === 1 ? '' : 's'}` : 'any worker');

/** A job's needs in a table cell: its GPUs, and transformers for a Hugging Face student's job. */
export const describeNeeds = (r: { gpus: number; transformers?: boolean | null }): string =>
  (r.transformers ? (r.gpus > 0 ? `${describeGpus(r.gpus)} + transformers` : 'transformers') : describeGpus(r.gpus));

/** A worker's registered capabilities in one line: "2x 80 GB GPU, bf16, torch 2.5.1, transformers 4.57.0, 64 GB RAM". */
export function describeWorker(w: { gpus: number; capabilities: unknown }): string {
  const c = (w.capabilities && typeof w.capabilities === 'object' ? w.capabilities : {}) as Record<string, unknown>;
  const parts: string[] = [];
  const mem = Array.isArray(c.gpuMemoryGb) ? (c.gpuMemoryGb as unknown[]).filter((x): x is number => typeof x === 'number') : [];
  if (w.gpus > 0) {
    const same = mem.length === w.gpus && mem.every((m) => m === mem[0]);
    parts.push(same ? `${w.gpus}x ${mem[0]} GB GPU` : mem.length ? `${w.gpus} GPUs (${mem.map((m) => `${m} GB`).join(', ')})` : `${w.gpus} GPU${w.gpus === 1 ? '' : 's'}`);
    if (typeof c.bf16 === 'boolean') parts.push(c.bf16 ? 'bf16' : 'no bf16');
  } else {
    parts.push(`CPU${typeof c.cpus === 'number' ? ` (${c.cpus} cores)` : ''}`);
  }
  if (typeof c.torch === 'string') parts.push(`torch ${c.torch}`);
  if (typeof c.transformers === 'string') parts.push(`transformers ${c.transformers}`);
  if (typeof c.memoryGb === 'number') parts.push(`${c.memoryGb} GB RAM`);
  return parts.join(', ');
}
