/** Editor features as pure functions over an Analysis: no LSP types, 0-based lines and UTF-16 columns. */
export * from './hints.js';
export * from './hover.js';
export * from './completion.js';
export * from './outline.js';
export * from './format.js';
export * from './code_actions.js';
export * from './navigation.js';
export * from './timeline.js';
export * from './vocabulary.js';
export * from './kernel_links.js';
export { wordAt, wordsOf } from './words.js';
