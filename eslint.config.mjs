import { readdirSync, statSync } from 'node:fs';
import js from '@eslint/js';
import importPlugin from 'eslint-plugin-import';
import tseslint from 'typescript-eslint';

const folders = (dir) => readdirSync(dir).filter((f) => statSync(`${dir}/${f}`).isDirectory());

/**
 * The architecture, held by lint (import/no-restricted-paths resolves every import to a file):
 * - the runtime (shared/runtime) knows no saga, no participant, no deployment and no function;
 * - the engine (shared/runtime/engine) imports only itself: no SDK, no I/O;
 * - shared code never imports a function; a function folder never imports another one;
 * - a saga's folder never imports another saga's.
 */
const boundaries = [
  {
    target: './shared/runtime',
    from: [
      './shared/sagas',
      './shared/participants',
      './shared/registry.ts',
      './shared/topology.ts',
      './shared/api.ts',
    ],
    message: 'the runtime knows no saga, participant or deployment: take them as parameters (a Registry)',
  },
  {
    target: './shared',
    from: ['./functions', './emulator', './cli', './bench', './test'],
    message: 'shared code imports no function or tool',
  },
  {
    target: './shared/runtime/engine',
    from: './shared',
    except: ['./runtime/engine'],
    message: 'the engine is pure: it imports only its own folder',
  },
  ...folders('functions').map((f) => ({
    target: `./functions/${f}`,
    from: './functions',
    except: [`./${f}`, './context.ts'],
    message: 'a function folder never imports another function',
  })),
  ...folders('shared/sagas').map((s) => ({
    target: `./shared/sagas/${s}`,
    from: './shared/sagas',
    except: [`./${s}`],
    message: "a saga's folder never imports another saga",
  })),
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { import: importPlugin },
    settings: { 'import/resolver': { node: { extensions: ['.ts', '.js', '.json'] } } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Numbers and booleans print unambiguously in a template; objects, null and undefined still must be explicit.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      // `(x) => void f(x)`-style shorthands returning a void call are idiomatic callbacks, not confusion.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      'import/no-restricted-paths': ['error', { zones: boundaries }],
    },
  },
  {
    files: ['shared/runtime/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^[^.]', message: 'the engine is pure: no packages, no node modules' }] },
      ],
    },
  },
);
