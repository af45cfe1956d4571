// The bundle's byte-level tokenizer (manifest.json "tokenizer"; ril_trainer/tokenizer.py):
// ids 0..255 are UTF-8 bytes, specials follow; prompt = [<bos>] utf8(question) [<sep>].
export interface TokenizerSpec {
  type: string;
  vocab_size: number;
  bos_id: number;
  eos_id: number;
  sep_id: number;
  pad_id: number;
  bytes: { first_id: number; count: number; encoding: string };
  prompt_template: string[];
}

export class ByteTokenizer {
  readonly eosId: number;
  constructor(readonly spec: TokenizerSpec) {
    if (spec.type !== 'byte-level' || spec.bytes.first_id !== 0 || spec.bytes.count !== 256 || spec.bytes.encoding !== 'utf-8') {
      throw new Error(`unsupported tokenizer ${JSON.stringify({ type: spec.type, bytes: spec.bytes })}`);
    }
    const template = JSON.stringify(spec.prompt_template);
    if (template !== JSON.stringify(['<bos>', '{question}', '<sep>'])) throw new Error(`unsupported prompt template ${template}`);
    this.eosId = spec.eos_id;
  }

  /** Text used as is: no normalisation, no stripping. */
  encodePrompt(question: string): number[] {
    return [this.spec.bos_id, ...Buffer.from(question, 'utf8'), this.spec.sep_id];
  }

  /** Text of the ids up to the first <eos>; ids >= 256 dropped; invalid UTF-8 replaced. */
  decode(ids: readonly number[]): string {
    const bytes: number[] = [];
    for (const id of ids) {
      if (id === this.eosId) break;
      if (id >= 0 && id < 256) bytes.push(id);
    }
    return new TextDecoder('utf-8').decode(Uint8Array.from(bytes));
  }

  /** An incremental decoder for streaming: push ids, get the text completed so far (multi-byte safe). */
  streamDecoder(): (id: number) => string {
    const decoder = new TextDecoder('utf-8');
    return (id) => (id >= 0 && id < 256 ? decoder.decode(Uint8Array.of(id), { stream: true }) : '');
  }
}
