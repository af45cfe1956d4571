// Database: none (this file runs once, in the SQLite pass of scripts/test.sh)
// OpenAI chat `messages` -> the conversation the student's tokenizer reads (api/_lib/http/chatMessages.ts), and the
// built-in family's template, which takes one user message (StudentTokenizer.encodeChat).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chatConversation } from '../api/_lib/http/chatMessages.js';
import { ByteTokenizer } from '../api/_lib/inference/tokenizer.js';

const IMG = 'data:image/png;base64,AAAA';
const code = (e: unknown) => (e as { extensions?: { code?: string } }).extensions?.code;

test('a whole conversation: system (and developer) messages, history as text, string and array content, one image', () => {
  const { messages, image } = chatConversation([
    { role: 'system', content: 'Be brief.' },
    { role: 'developer', content: [{ type: 'text', text: 'Use one word.' }] },
    { role: 'user', content: [{ type: 'text', text: 'What is it?' }, { type: 'image_url', image_url: { url: IMG } }] },
    { role: 'assistant', content: 'A shirt.' },
    { role: 'user', content: [{ type: 'text', text: 'Colour?' }, { type: 'text', text: 'One word.' }] },
  ]);
  assert.deepEqual(messages, [
    { role: 'system', text: 'Be brief.' }, { role: 'system', text: 'Use one word.' }, { role: 'user', text: 'What is it?' },
    { role: 'assistant', text: 'A shirt.' }, { role: 'user', text: 'Colour?\nOne word.' },
  ]);
  assert.deepEqual(image, { value: IMG, where: 'messages[2].content[1].image_url.url' });
  // image_url as a bare string (older clients)
  assert.equal(chatConversation([{ role: 'user', content: [{ type: 'image_url', image_url: IMG }] }]).image.value, IMG);
});

test('refusals: no image, two images, images outside user messages, unknown roles and parts', () => {
  const img = { type: 'image_url', image_url: { url: IMG } };
  const cases: [unknown, RegExp][] = [
    [[], /non-empty array/],
    ['hi', /non-empty array/],
    [[{ role: 'user', content: 'hi' }], /exactly one image_url part \(in a user message\); it has 0/],
    [[{ role: 'user', content: [img] }, { role: 'user', content: [img] }], /it has 2/],
    [[{ role: 'user', content: [img, img] }], /it has 2/],
    [[{ role: 'assistant', content: [img] }, { role: 'user', content: [img] }], /images go in user messages, not assistant/],
    [[{ role: 'system', content: [img] }], /images go in user messages, not system/],
    [[{ role: 'tool', content: 'x' }, { role: 'user', content: [img] }], /role must be system, developer, user or assistant \(got "tool"\)/],
    [[{ role: 'user', content: [img, { type: 'input_audio', input_audio: {} }] }], /content\[1\] must be a text or image_url part/],
    [[{ role: 'assistant', content: null, tool_calls: [] }, { role: 'user', content: [img] }], /content must be a string or an array/],
  ];
  for (const [raw, message] of cases) {
    assert.throws(() => chatConversation(raw), (e: Error) => code(e) === 'BAD_USER_INPUT' && message.test(e.message), JSON.stringify(raw));
  }
});

test('the built-in template: one user message is the question; system messages or history are refused', () => {
  const tk = new ByteTokenizer({ type: 'byte-level', vocab_size: 260, bos_id: 256, eos_id: 257, sep_id: 258, pad_id: 259,
    prompt_template: ['<bos>', '{question}', '<sep>'], bytes: { first_id: 0, count: 256, encoding: 'utf-8' } });
  assert.deepEqual(tk.encodeChat([{ role: 'user', text: 'hé?' }]), tk.encodePrompt('hé?'));
  for (const messages of [
    [{ role: 'system' as const, text: 'Be brief.' }, { role: 'user' as const, text: 'q' }],
    [{ role: 'user' as const, text: 'q' }, { role: 'assistant' as const, text: 'a' }, { role: 'user' as const, text: 'q2' }],
    [{ role: 'assistant' as const, text: 'a' }],
  ]) {
    assert.throws(() => tk.encodeChat(messages), (e: Error) => code(e) === 'BAD_USER_INPUT'
      && /takes one user message .* Hugging Face students \(chat templates\) take conversations/.test(e.message));
  }
});
