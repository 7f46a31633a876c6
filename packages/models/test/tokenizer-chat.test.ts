import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type ChatMessage,
  chatTemplateFromConfig,
  LLAMA3_CHAT_TEMPLATE,
  loadHfTokenizer,
  renderChatTemplate,
  toTokenizerJson,
  trainByteLevelBpe,
} from '../src/index.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'tokenizer');
const readConfig = (name: string) =>
  JSON.parse(readFileSync(join(fixtures, name, 'tokenizer_config.json'), 'utf8'));

const chat: ChatMessage[] = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: '  Who wrote Emma?\n' },
  { role: 'assistant', content: 'Jane Austen.' },
];

// Written by hand from the Llama 3 template: BOS once, each message as
// header + blank line + trimmed content + <|eot_id|>.
const LLAMA3_EXPECTED =
  '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant.<|eot_id|>' +
  '<|start_header_id|>user<|end_header_id|>\n\nWho wrote Emma?<|eot_id|>' +
  '<|start_header_id|>assistant<|end_header_id|>\n\nJane Austen.<|eot_id|>';
const LLAMA3_PROMPT = '<|start_header_id|>assistant<|end_header_id|>\n\n';

describe('chat templates', () => {
  const ours = trainByteLevelBpe('Who wrote Emma? Jane Austen wrote Emma.', { vocabSize: 300 });

  it('our BPE renders the Llama 3 template by default', () => {
    expect(ours.chatTemplate).toBe(LLAMA3_CHAT_TEMPLATE);
    expect(ours.applyChatTemplate(chat)).toBe(LLAMA3_EXPECTED);
    expect(ours.applyChatTemplate(chat, { addGenerationPrompt: true })).toBe(
      LLAMA3_EXPECTED + LLAMA3_PROMPT,
    );
    // Rendered text encodes with the chat markers as single special tokens.
    const ids = ours.encode(ours.applyChatTemplate(chat));
    expect(ids[0]).toBe(ours.bosTokenId);
    expect(ids.filter((id) => id === ours.specialTokenIds.get('<|eot_id|>'))).toHaveLength(3);
    expect(ours.decode(ids)).toBe(LLAMA3_EXPECTED);
  });

  it('the Llama 3 fixture tokenizer_config.json holds the same template and renders the same', () => {
    const config = readConfig('llama3-chat');
    expect(chatTemplateFromConfig(config)).toBe(LLAMA3_CHAT_TEMPLATE);
    const hf = loadHfTokenizer(JSON.parse(JSON.stringify(toTokenizerJson(ours))), config);
    expect(hf.applyChatTemplate(chat, { addGenerationPrompt: true })).toBe(
      LLAMA3_EXPECTED + LLAMA3_PROMPT,
    );
    expect(hf.eosTokenId).toBe(ours.specialTokenIds.get('<|eot_id|>'));
  });

  it('renders the Mistral fixture template by hand-checked output, and its raise_exception', () => {
    const config = readConfig('mistral-chat');
    const hf = loadHfTokenizer(JSON.parse(JSON.stringify(toTokenizerJson(ours))), config);
    const turns: ChatMessage[] = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'How are you?' },
    ];
    expect(hf.applyChatTemplate(turns)).toBe(
      '<s>[INST] Hi [/INST]Hello!</s> [INST] How are you? [/INST]',
    );
    expect(() => hf.applyChatTemplate(chat)).toThrow(
      /^@plexus\/models\/tokenizer: chat template failed on these messages: Conversation roles must alternate/,
    );
  });

  it('reads named template lists and reports templates that do not parse', () => {
    const config = {
      chat_template: [
        { name: 'default', template: '{{ messages[0].content }}' },
        { name: 'tool_use', template: 'T' },
      ],
    };
    expect(chatTemplateFromConfig(config)).toBe('{{ messages[0].content }}');
    expect(chatTemplateFromConfig(config, 'tool_use')).toBe('T');
    expect(() => chatTemplateFromConfig(config, 'rag')).toThrow(/no chat template named "rag"/);
    expect(chatTemplateFromConfig({})).toBeUndefined();
    expect(() => renderChatTemplate('{% for %}', chat)).toThrow(
      /^@plexus\/models\/tokenizer: chat template does not parse/,
    );
    expect(() => loadHfTokenizer(toTokenizerJson(ours)).applyChatTemplate(chat)).toThrow(
      /has no chat template/,
    );
  });
});
