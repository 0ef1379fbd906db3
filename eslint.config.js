// ESLint flat config. Formatting is Prettier's job (`npm run format:check`); this file is about meaning:
// the recommended rules of ESLint, typescript-eslint and eslint-plugin-vue, no import cycles (eslint/no-cycle.js), and the
// layering of the tree (eslint/code-layering.js, in the shape of VS Code's code-layering rule).
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';
import globals from 'globals';
import codeLayering from './eslint/code-layering.js';
import noCycle from './eslint/no-cycle.js';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * Who may import whom (docs/architecture.md has the diagram). Folders not listed here (test/, bench/,
 * scripts/, examples/) may import anything.
 */
const layers = {
  // the typed IPC contract, wire and command ids: every layer uses it, so it uses nothing but valibot
  common: { allow: [], packages: ['valibot'] },
  // the emulated kernel: pure TypeScript (tsconfig.engine.json has no Node or DOM types either); common/
  // is pure too (plain data, types and valibot schemas)
  engine: { allow: ['common'], packages: ['valibot', '@valibot/to-json-schema'] },
  // compiles scenarios and runs them in the QuickJS sandbox against the engine
  runner: {
    allow: ['engine', 'common'],
    packages: ['quickjs-emscripten-core', '@jitl/quickjs-wasmfile-release-sync', 'amaro', 'sucrase'],
  },
  // real hosts in and out: capture import, C export (pure, shared by the CLI and the host)
  interop: { allow: ['engine', 'runner', 'common'], packages: [] },
  // plain-Node host shared by the desktop app and browser mode: engine worker, dispatch, workspace
  host: { allow: ['engine', 'runner', 'common', 'interop'], packages: ['node:*', 'tsx'] },
  // the dmawb command line
  cli: { allow: ['engine', 'runner', 'common', 'host', 'interop'], packages: ['node:*'] },
  // browser mode: the host behind HTTP + WebSocket; never Electron
  // (electron-vite and vite only to build the renderer when out/renderer is stale: server/build-renderer.ts)
  server: { allow: ['host', 'common'], packages: ['node:*', 'ws', 'electron-vite', 'vite'] },
  // the Electron main process
  main: { allow: ['host', 'common'], packages: ['node:*', 'electron'] },
  // the sandboxed preload: one CommonJS bundle, Electron's renderer modules only
  preload: { allow: ['common'], packages: ['electron'] },
  // the Vue renderer knows main only through the contract (common/)
  renderer: {
    allow: ['common', 'types'],
    packages: ['vue', 'pinia', 'monaco-editor', 'uplot', 'marked', 'dompurify'],
  },
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'out/',
      'dist/',
      'coverage/',
      'test-results/',
      'examples/',
      'test/conformance/',
      'schema/',
      '**/*.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    // layout is Prettier's: these eslint-plugin-vue rules would fight it
    rules: Object.fromEntries(
      [
        'max-attributes-per-line',
        'singleline-html-element-content-newline',
        'multiline-html-element-content-newline',
        'html-closing-bracket-newline',
        'html-closing-bracket-spacing',
        'html-indent',
        'html-self-closing',
        'first-attribute-linebreak',
      ].map((r) => [`vue/${r}`, 'off']),
    ),
  },
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'] } },
  },
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.es2023 },
    },
    plugins: { local: { rules: { 'code-layering': codeLayering, 'no-cycle': noCycle } } },
    rules: {
      'local/code-layering': ['error', { root, layers }],
      'local/no-cycle': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  // where each runtime's globals exist
  {
    files: [
      'host/**',
      'main/**',
      'server/**',
      'cli/**',
      'bin/**',
      'scripts/**',
      'bench/**',
      'test/**',
      '*.{js,ts}',
      'eslint/**',
    ],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['renderer/**', 'test/e2e/**', 'bench/renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  // tests may poke at shapes with `any`
  { files: ['test/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  // raw ipcMain lives in one wrapper (main/ipc.ts), raw ipcRenderer in the preload only, never a generic send
  {
    files: ['main/**'],
    ignores: ['main/ipc.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', importNames: ['ipcMain'], message: 'raw ipcMain lives in main/ipc.ts only' },
          ],
        },
      ],
    },
  },
  {
    files: ['preload/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "MemberExpression[object.name='ipcRenderer'][property.name=/^(send|sendSync|postMessage|sendToHost)$/]",
          message: 'the preload exposes named invoke functions only, never a generic send',
        },
      ],
    },
  },
);
