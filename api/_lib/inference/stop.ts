// Stop sequences (OpenAI's `stop`): generation ends as soon as the generated text contains one of them, and the
// answer is the text before it. One implementation for every route (service.ts wraps a request's token callback
// with a StopFilter), streaming or not.
//
// Streaming is the hard part: a token's text may be the start of a stop sequence that the next tokens complete
// ("Ans" + "wer:" with stop "Answer:"), so a token cannot be sent as soon as it is chosen. The filter holds back
// the tokens whose text overlaps the longest suffix of the text so far that is a prefix of some stop sequence, and
// sends them once the text can no longer become a stop sequence there (or at the end of generation). It holds
// whole tokens, never part of one, so each token id is sent once with its text; when a stop sequence matches, the
// token it starts in is sent with the text before it and nothing after is sent.
import { badInput } from '../errors.js';

/** OpenAI's limit on stop sequences per request. */
export const MAX_STOP_SEQUENCES = 4;
/** Longest stop sequence (characters): the filter may hold back this much text, and searches it at each token. */
export const MAX_STOP_LENGTH = 256;

/** A request's `stop` (null/undefined, a string, or an array of up to 4 strings) as a list; BAD_USER_INPUT otherwise. */
export function stopSequences(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) throw badInput('stop must be a string or an array of strings');
  if (list.length > MAX_STOP_SEQUENCES) throw badInput(`stop takes at most ${MAX_STOP_SEQUENCES} sequences (it has ${list.length})`);
  for (const s of list) {
    if (typeof s !== 'string' || s.length === 0) throw badInput('every stop sequence must be a non-empty string');
    if (s.length > MAX_STOP_LENGTH) throw badInput(`a stop sequence may be at most ${MAX_STOP_LENGTH} characters`);
  }
  return list as string[];
}

export class StopFilter {
  private readonly pending: { id: number; text: string }[] = [];
  private pendingText = '';
  private sent = '';
  private matchedAt: number | null = null;
  private pushed = 0;

  /** `emit` receives the tokens that are safe to send, each once, with the text to send for it. */
  constructor(private readonly stops: readonly string[], private readonly emit: (id: number, text: string) => void) {}

  /** Whether a stop sequence has matched. */
  get matched(): boolean {
    return this.matchedAt !== null;
  }

  /** The tokens generated up to and including the one that completed the stop sequence (all of them if none did). */
  get tokenCount(): number {
    return this.matchedAt ?? this.pushed;
  }

  /** The text sent so far: after a match, the answer (everything before the stop sequence). */
  get text(): string {
    return this.sent;
  }

  /** The next generated token and the text it completes; true when a stop sequence matched (generation should end). */
  push(id: number, text: string): boolean {
    if (this.matchedAt !== null) return true;
    this.pushed += 1;
    this.pending.push({ id, text });
    this.pendingText += text;
    // Only the held text and this token's can hold a match: everything sent before was no stop sequence's start.
    let at = -1;
    for (const s of this.stops) {
      const i = this.pendingText.indexOf(s);
      if (i >= 0 && (at < 0 || i < at)) at = i;
    }
    if (at >= 0) {
      this.matchedAt = this.pushed;
      this.release(at, true);
      return true;
    }
    this.release(this.pendingText.length - this.heldSuffix(), false);
    return false;
  }

  /** Generation ended without a match: sends what was held back. */
  end(): void {
    if (this.matchedAt === null) this.release(this.pendingText.length, false);
  }

  /** Length of the longest suffix of the held text that is a proper prefix of a stop sequence. */
  private heldSuffix(): number {
    const text = this.pendingText;
    let best = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, text.length); n > best; n--) {
        if (text.endsWith(s.slice(0, n))) { best = n; break; }
      }
    }
    return best;
  }

  /** Sends the pending tokens whose text lies before `boundary` (in the held text); with `cut`, the token that
   * straddles it too, with its text up to the boundary, and drops the rest (a stop sequence starts there). */
  private release(boundary: number, cut: boolean): void {
    let offset = 0;
    let n = 0;
    for (const tok of this.pending) {
      const end = offset + tok.text.length;
      if (end <= boundary) {
        this.send(tok.id, tok.text);
      } else {
        if (cut && offset < boundary) this.send(tok.id, tok.text.slice(0, boundary - offset));
        break;
      }
      offset = end;
      n += 1;
    }
    if (cut) {
      this.pending.length = 0;
      this.pendingText = '';
      return;
    }
    this.pending.splice(0, n);
    this.pendingText = this.pendingText.slice(offset);
  }

  private send(id: number, text: string) {
    this.sent += text;
    this.emit(id, text);
  }
}
