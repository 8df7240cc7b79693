// Typed lint. Layering is enforced here: core/ is pure, only server/ speaks LSP, only client/ imports vscode.
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

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
    },
  },
  {
    files: ['core/src/**/*.ts'],
    rules: restrict([
      {
        group: ['vscode', 'vscode-*', 'node:*', 'fs', 'path', 'child_process'],
        message: 'core/ is pure: no vscode, LSP, node or DOM imports',
      },
    ]),
  },
  {
    files: ['server/src/**/*.ts'],
    rules: {
      ...restrict([
        { group: ['vscode', 'vscode-languageclient*'], message: 'the server never imports the VS Code API' },
      ]),
      'no-console': 'error',
    },
  },
  {
    files: ['webview/src/**/*.ts'],
    rules: restrict([
      { group: ['vscode', 'vscode-language*', 'node:*'], message: 'the webview runs in a browser sandbox' },
    ]),
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
