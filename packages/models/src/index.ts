// Each area keeps its own barrel; this file only lists them.
export * from './model/index.js';
export * from './safetensors/index.js';
export * from './tokenizer/index.js';
