// OpenAI chat `messages` -> our conversation (ChatMessage[]) and the request's one image. What stock clients send:
// `content` as a string or an array of parts ({type: 'text'} and, in user messages, {type: 'image_url'}); roles
// system (and `developer`, OpenAI's newer name for it), user and assistant (earlier turns, as text). The student
// sees one image per request, so the conversation must carry exactly one, in a user message; it is returned as the
// raw value (a data: URL or a URL), loaded by the caller only after the whole conversation was checked, so a
// malformed conversation never costs a fetch.
import { badInput } from '../errors.js';
import type { ChatMessage } from '../inference/port.js';

const ROLES: Record<string, ChatMessage['role']> = { system: 'system', developer: 'system', user: 'user', assistant: 'assistant' };

export function chatConversation(raw: unknown): { messages: ChatMessage[]; image: { value: unknown; where: string } } {
  if (!Array.isArray(raw) || raw.length === 0) throw badInput('messages must be a non-empty array');
  const messages: ChatMessage[] = [];
  const images: { value: unknown; where: string }[] = [];
  for (const [i, m] of raw.entries()) {
    const msg = m as { role?: unknown; content?: unknown } | null;
    const role = typeof msg?.role === 'string' ? ROLES[msg.role] : undefined;
    if (!role) throw badInput(`messages[${i}].role must be system, developer, user or assistant (got ${JSON.stringify(msg?.role ?? null)})`);
    const texts: string[] = [];
    if (typeof msg!.content === 'string') texts.push(msg!.content);
    else if (Array.isArray(msg!.content)) {
      for (const [j, part] of msg!.content.entries()) {
        const p = part as { type?: unknown; text?: unknown; image_url?: { url?: unknown } | string } | null;
        const where = `messages[${i}].content[${j}]`;
        if (p?.type === 'text' && typeof p.text === 'string') texts.push(p.text);
        else if (p?.type === 'image_url' && role === 'user') {
          images.push({ value: typeof p.image_url === 'string' ? p.image_url : p.image_url?.url, where: `${where}.image_url.url` });
        } else if (p?.type === 'image_url') throw badInput(`${where}: images go in user messages, not ${msg!.role} messages`);
        else throw badInput(`${where} must be a text${role === 'user' ? ' or image_url' : ''} part`);
      }
    } else throw badInput(`messages[${i}].content must be a string or an array of parts`);
    messages.push({ role, text: texts.join('\n') });
  }
  if (images.length !== 1) {
    throw badInput(`the conversation needs exactly one image_url part (in a user message); it has ${images.length}: the student reads one image per request`);
  }
  return { messages, image: images[0] };
}
