// Typed lint. Layering is enforced here: core/ is pure, only server/ speaks LSP, only client/ imports vscode.
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
const PURE = {
  group: ['vscode', 'vscode-*', 'node:*', 'fs', 'path', 'child_process'],
  message: 'core/ is pure: no vscode, LSP, node or DOM imports',
};
const MODEL = {
  group: ['**/kvm/*'],
  message: 'only core/src/engine runs the model (core/src/kvm); import the kernel vocabulary from core/src/kernel',
};

// Spreading an array into arguments puts every element on the stack: ~125,000 of them overflow it
// ("Maximum call stack size exceeded"). Scenarios, lines, roots and steps are unbounded: loop or reduce.
const NO_SPREAD = [
  {
    selector: "CallExpression[callee.object.name='Math'] > SpreadElement",
    message: 'Math.max/min(...array) overflows the stack on a large array: use a loop or reduce',
  },
  {
    selector: "CallExpression[callee.object.name='String'] > SpreadElement",
    message: 'String.fromCharCode(...array) overflows the stack on a large array: use a loop or TextDecoder',
  },
];
// The protocol's names are spelled once, in core/src/protocol.ts: every other source uses its constants.
const METHOD_NAMES = [
  {
    selector: 'Literal[value=/^kvmmu\\//], TemplateElement[value.raw=/^kvmmu\\//]',
    message:
      "a custom method is a request object of core/src/protocol.ts (e.g. TimelineRequest), never a 'kvmmu/…' string",
  },
];
const LANGUAGE_ID = [
  {
    selector: "Literal[value='kvmmu']",
    message: 'the language id is LANGUAGE_ID (core/src/protocol.ts); the settings section is SETTINGS_SECTION',
  },
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      'dist/**',
      '**/out/**',
      '.vscode-test/**',
      'e2e/**',
      'scripts/**',
      '**/*.cjs',
      '**/*.mjs',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Spreading an array into arguments puts every element on the stack: ~125,000 of them overflow it
      // ("Maximum call stack size exceeded"). Scenarios, lines, roots and steps are unbounded: loop or reduce.
      'no-restricted-syntax': ['error', ...NO_SPREAD],
    },
  },
  {
    files: ['cli/src/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', ...NO_SPREAD, ...METHOD_NAMES] },
  },
  {
    // The editor's packages: the language id too (the CLI's `kvmmu` is its own name).
    files: ['{core,server,client,webview,playground}/src/**/*.ts'],
    ignores: ['core/src/protocol.ts', 'core/src/settings.ts'],
    rules: { 'no-restricted-syntax': ['error', ...NO_SPREAD, ...METHOD_NAMES, ...LANGUAGE_ID] },
  },
  {
    files: ['core/src/**/*.ts'],
    rules: restrict([PURE]),
  },
  {
    // Only the engine runs the model: everything else speaks the kernel's vocabulary (core/src/kernel).
    files: ['core/src/**/*.ts'],
    ignores: ['core/src/engine/**', 'core/src/kvm/**'],
    rules: restrict([PURE, MODEL]),
  },
  {
    // The ground floor: the kernel's vocabulary imports nothing above it.
    files: ['core/src/kernel/**/*.ts'],
    rules: restrict([
      PURE,
      MODEL,
      { group: ['../*', '!../util/*'], message: 'core/src/kernel imports only itself and util' },
    ]),
  },
  {
    files: ['server/src/**/*.ts'],
    rules: {
      ...restrict([
        { group: ['vscode', 'vscode-languageclient*'], message: 'the server never imports the VS Code API' },
        MODEL,
      ]),
      'no-console': 'error',
    },
  },
  {
    files: ['webview/src/**/*.ts'],
    rules: restrict([
      { group: ['vscode', 'vscode-language*', 'node:*'], message: 'the webview runs in a browser sandbox' },
      MODEL,
    ]),
  },
  {
    // The playground is a web page: it reaches the server only through LSP messages to its worker.
    files: ['playground/src/**/*.ts'],
    rules: restrict([
      { group: ['vscode', 'vscode-language*', 'node:*'], message: 'the playground runs in a browser page' },
      { group: ['**/server/src/*'], message: 'the playground talks to the server in its worker over LSP' },
      MODEL,
    ]),
  },
  {
    // The panel's page, messages and lifetimes are core/src/panel, which the webview imports too.
    files: ['client/src/**/*.ts'],
    rules: restrict([
      MODEL,
      { group: ['**/webview/**'], message: 'the client shares only core/src/panel with the webview' },
    ]),
  },
  {
    files: ['cli/src/**/*.ts'],
    rules: restrict([MODEL]),
  },
  {
    files: ['**/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
