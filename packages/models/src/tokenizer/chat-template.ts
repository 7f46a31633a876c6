import { Template } from '@huggingface/jinja';
import { PlexusModelsError } from '../errors.js';
import type { ChatMessage, ChatTemplateOptions } from './tokenizer-v1.js';

/**
 * Meta Llama 3 Instruct's chat template, as published in its
 * `tokenizer_config.json`: the default for tokenizers trained here.
 */
export const LLAMA3_CHAT_TEMPLATE =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

/** Special-token strings a template may refer to. */
export interface ChatTemplateTokens {
  readonly bosToken?: string | undefined;
  readonly eosToken?: string | undefined;
}

// Parsing is the slow part and a process sees few distinct templates.
const parsed = new Map<string, Template>();

/**
 * Render `messages` with a Jinja chat template (as transformers'
 * `apply_chat_template(..., tokenize=False)` does), through `@huggingface/jinja`.
 */
export function renderChatTemplate(
  template: string,
  messages: readonly ChatMessage[],
  tokens: ChatTemplateTokens = {},
  options: ChatTemplateOptions = {},
): string {
  let compiled = parsed.get(template);
  if (compiled === undefined) {
    try {
      compiled = new Template(template);
    } catch (cause) {
      throw new PlexusModelsError(
        'tokenizer',
        `chat template does not parse as Jinja: ${String(cause)}`,
        {
          cause,
        },
      );
    }
    parsed.set(template, compiled);
  }
  try {
    return compiled.render({
      ...options.extra,
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      add_generation_prompt: options.addGenerationPrompt ?? false,
      bos_token: tokens.bosToken ?? '',
      eos_token: tokens.eosToken ?? '',
    });
  } catch (cause) {
    // Templates reject bad conversations through raise_exception, which throws a plain Error.
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new PlexusModelsError('tokenizer', `chat template failed on these messages: ${message}`, {
      cause,
    });
  }
}

/**
 * The chat template of a `tokenizer_config.json` object: its `chat_template`
 * string, or the entry named `name` (default `default`) when it is a list of
 * named templates; undefined when it has none.
 */
export function chatTemplateFromConfig(config: unknown, name = 'default'): string | undefined {
  if (typeof config !== 'object' || config === null) return undefined;
  const value = (config as { chat_template?: unknown }).chat_template;
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const entry = value.find(
      (t): t is { name: string; template: string } =>
        typeof t === 'object' && t !== null && t.name === name && typeof t.template === 'string',
    );
    if (entry !== undefined) return entry.template;
    throw new PlexusModelsError(
      'tokenizer',
      `tokenizer_config.json has no chat template named "${name}" (it has: ${value.map((t) => String(t?.name)).join(', ')})`,
    );
  }
  throw new PlexusModelsError(
    'tokenizer',
    'tokenizer_config.json chat_template must be a string or a list of {name, template}',
  );
}
