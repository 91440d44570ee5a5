import { builtinModules } from 'node:module'
import js from '@eslint/js'
import prettier from 'eslint-config-prettier/flat'
import { createNodeResolver, importX } from 'eslint-plugin-import-x'
import vue from 'eslint-plugin-vue'
import { defineConfig, globalIgnores } from 'eslint/config'
import globals from 'globals'
import tseslint from 'typescript-eslint'

// The engine's domain folders: each is built by the composition root, never the other way round.
const DOMAINS = ['library', 'search', 'tagging', 'xmp', 'lexicon', 'models', 'inference', 'image', 'checkpoint', 'onnx', 'download', 'store']
const SHELLS = ['app', 'cli', 'server']

const NODE_BUILTINS = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)]

// Layer rules on resolved paths (relative imports included), so a move or a deeper folder cannot slip past them.
const layers = {
  'import-x/no-restricted-paths': [
    'error',
    {
      basePath: import.meta.dirname,
      zones: [
        {
          target: './src/main/engine',
          from: ['./src/main/app', './src/main/cli', './src/main/server', './src/main/host', './src/renderer'],
          message: 'The engine is plain Node: the shells and the host build on it, never the other way round.'
        },
        {
          target: DOMAINS.map((d) => `./src/main/engine/${d}/**`),
          from: ['./src/main/engine/compose.ts', './src/main/engine/engine.ts'],
          message: 'A domain module gets what it needs passed in; only the composition root knows every service.'
        },
        ...SHELLS.map((shell) => ({
          target: `./src/main/${shell}`,
          from: SHELLS.filter((other) => other !== shell).map((other) => `./src/main/${other}`),
          message: 'The shells do not import each other: what they share lives in src/main/host or the engine.'
        })),
        { target: './src/renderer', from: './src/main', message: 'The renderer talks to the engine only through the bridge and src/shared.' },
        { target: './src/shared', from: './src', except: ['./shared'], message: 'src/shared is imported by every layer, so it imports nothing but itself.' }
      ]
    }
  ]
}

export default defineConfig([
  globalIgnores(['out/', 'dist/', 'models/', 'docs/', '.devrt/', 'test-output/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  vue.configs['flat/recommended'],
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.vue', '.js', '.mjs', '.json'] })]
    },
    rules: {
      ...layers,
      // Destructuring a field away to keep the rest is how this code omits one.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // `cond ? a() : b()` as a statement is house style.
      '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true, allowShortCircuit: true }]
    }
  },
  { ignores: ['src/renderer/**'], languageOptions: { globals: globals.node } },
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } }
  },
  {
    files: ['src/renderer/**'],
    languageOptions: { globals: globals.browser },
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [...NODE_BUILTINS, 'electron'].map((name) => ({ name, message: 'The renderer is a sandboxed web page: the preload bridge is its only way out.' })) }
      ]
    }
  },
  {
    files: ['src/main/engine/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'The engine runs in plain Node (CLI, web server, utility process).' }] }]
    }
  },
  {
    files: ['src/shared/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^[^.]', message: 'src/shared imports nothing but src/shared.' }] }]
    }
  },
  prettier
])
