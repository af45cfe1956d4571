// The bundle's tokenizer (manifest.json "tokenizer"; ril_trainer/tokenizer.py), rebuilt so the endpoint makes
// the trainer's ids: prompt = [<bos>] encode(question) [<sep>], answers end at <eos>.
//  - "byte-level": ids 0..255 are UTF-8 bytes, specials follow (older students, and `tokenizer: byte`).
//  - "hf-tokenizer-json": the bundle's tokenizer.json (byte-level BPE trained with Hugging Face tokenizers),
//    run by @huggingface/tokenizers, the maintained JS port of the same library, so BPE is not re-implemented.
// No Node-only API here (TextEncoder, not Buffer): the dashboard's on-device runner bundles this module as it is.
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { badInput } from '../errors.js';
import type { ChatMessage } from './port.js';

export interface TokenizerSpec {
  type: string;
  vocab_size: number;
  bos_id: number;
  eos_id: number;
  sep_id: number;
  pad_id: number;
  prompt_template: string[];
  /** byte-level */
  bytes?: { first_id: number; count: number; encoding: string };
  /** hf-tokenizer-json: the bundle file holding it */
  file?: string;
  special_tokens?: Record<string, number>;
}

export interface StudentTokenizer {
  readonly eosId: number;
  /** Text used as is: no normalisation, no stripping. */
  encodePrompt(question: string): number[];
  /** The prompt of a conversation (the endpoint's one entry point, InferenceService.run): the family's own
   * template applied to the messages. BAD_USER_INPUT for a conversation the template cannot express. */
  encodeChat(messages: readonly ChatMessage[]): number[];
  /** Text of the ids up to the first <eos>, specials dropped. */
  decode(ids: readonly number[]): string;
  /** An incremental decoder for streaming: push ids, get the text completed so far. */
  streamDecoder(): (id: number) => string;
  /** Whether an id is text (the repetition penalty spares specials, as the trainer does). */
  isText(id: number): boolean;
}

const PROMPT_TEMPLATE = JSON.stringify(['<bos>', '{question}', '<sep>']);

/** The built-in family's template is one user turn, `<bos> question <sep>`: the students were trained on single
 * questions, so a system message or an earlier turn has no place in the prompt, and dropping it silently would
 * answer a different request than the one sent. */
function singleQuestion(messages: readonly ChatMessage[]): string {
  if (messages.length === 1 && messages[0].role === 'user') return messages[0].text;
  throw badInput('this student\'s prompt template takes one user message (<bos> question <sep>): no system messages or '
    + 'earlier turns; Hugging Face students (chat templates) take conversations');
}

function checkTemplate(spec: TokenizerSpec) {
  const template = JSON.stringify(spec.prompt_template);
  if (template !== PROMPT_TEMPLATE) throw new Error(`unsupported prompt template ${template}`);
}

export class ByteTokenizer implements StudentTokenizer {
  readonly eosId: number;
  constructor(readonly spec: TokenizerSpec) {
    const b = spec.bytes;
    if (spec.type !== 'byte-level' || b?.first_id !== 0 || b.count !== 256 || b.encoding !== 'utf-8') {
      throw new Error(`unsupported tokenizer ${JSON.stringify({ type: spec.type, bytes: spec.bytes })}`);
    }
    checkTemplate(spec);
    this.eosId = spec.eos_id;
  }

  encodePrompt(question: string): number[] {
    return [this.spec.bos_id, ...new TextEncoder().encode(question), this.spec.sep_id];
  }

  encodeChat(messages: readonly ChatMessage[]): number[] {
    return this.encodePrompt(singleQuestion(messages));
  }

  /** Invalid UTF-8 is replaced. */
  decode(ids: readonly number[]): string {
    const bytes: number[] = [];
    for (const id of ids) {
      if (id === this.eosId) break;
      if (this.isText(id)) bytes.push(id);
    }
    return new TextDecoder('utf-8').decode(Uint8Array.from(bytes));
  }

  /** Multi-byte safe: a character split over ids comes out once complete. */
  streamDecoder(): (id: number) => string {
    const decoder = new TextDecoder('utf-8');
    return (id) => (this.isText(id) ? decoder.decode(Uint8Array.of(id), { stream: true }) : '');
  }

  isText(id: number): boolean {
    return id >= 0 && id < 256;
  }
}

export class BpeTokenizer implements StudentTokenizer {
  readonly eosId: number;
  private readonly hf: HfTokenizer;
  private readonly specials: Set<number>;

  constructor(readonly spec: TokenizerSpec, tokenizerJson: string) {
    if (spec.type !== 'hf-tokenizer-json') throw new Error(`unsupported tokenizer type ${spec.type}`);
    checkTemplate(spec);
    let json: unknown;
    try {
      json = JSON.parse(tokenizerJson);
    } catch {
      throw new Error('tokenizer.json is not valid JSON');
    }
    this.hf = new HfTokenizer(json as object, {});
    this.eosId = spec.eos_id;
    this.specials = new Set(Object.values(spec.special_tokens ?? {}));
    for (const id of [spec.bos_id, spec.eos_id, spec.sep_id, spec.pad_id]) this.specials.add(id);
  }

  encodePrompt(question: string): number[] {
    const ids = this.hf.encode(question, { add_special_tokens: false }).ids;
    return [this.spec.bos_id, ...ids, this.spec.sep_id];
  }

  encodeChat(messages: readonly ChatMessage[]): number[] {
    return this.encodePrompt(singleQuestion(messages));
  }

  decode(ids: readonly number[]): string {
    const end = ids.indexOf(this.eosId);
    const text = (end < 0 ? ids : ids.slice(0, end)).filter((id) => this.isText(id));
    return text.length ? this.hf.decode(text, { skip_special_tokens: true }) : ''; // the library refuses []
  }

  /** Decodes the whole answer so far and returns what is new; a trailing incomplete character (U+FFFD from a
   * byte-level token that ends mid-character) is held back until the next id completes it. */
  streamDecoder(): (id: number) => string {
    const ids: number[] = [];
    let emitted = 0;
    return (id) => {
      if (!this.isText(id)) return '';
      ids.push(id);
      const text = this.decode(ids);
      const stable = text.endsWith('\uFFFD') ? text.slice(0, -1) : text;
      if (stable.length <= emitted) return '';
      const out = stable.slice(emitted);
      emitted = stable.length;
      return out;
    };
  }

  isText(id: number): boolean {
    return !this.specials.has(id);
  }
}

/** The bundle's tokenizer; `readFile` gives a bundle file's text (tokenizer.json for BPE students). */
export function loadTokenizer(spec: TokenizerSpec, readFile: (name: string) => string): StudentTokenizer {
  if (spec.type === 'byte-level') return new ByteTokenizer(spec);
  if (spec.type === 'hf-tokenizer-json') {
    if (!spec.file) throw new Error('tokenizer spec names no file');
    return new BpeTokenizer(spec, readFile(spec.file));
  }
  throw new Error(`unsupported tokenizer type ${JSON.stringify(spec.type)}`);
}
