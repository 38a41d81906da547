import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The consensus core must stay pure and deterministic: no I/O, no timers, no clocks, no ambient
// randomness, and no imports from outside src/raft. These rules make a violation a lint error.
const rawCorePurity = {
  files: ['src/raft/**/*.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: '^(?!\\./)',
            message: 'src/raft may only import sibling modules (./x.js): it must stay pure.',
          },
        ],
      },
    ],
    'no-restricted-globals': [
      'error',
      ...[
        'setTimeout',
        'setInterval',
        'setImmediate',
        'clearTimeout',
        'clearInterval',
        'clearImmediate',
        'queueMicrotask',
        'process',
        'performance',
        'Date',
        'require',
        'fetch',
        'crypto',
        'Buffer',
      ].map((name) => ({ name, message: `src/raft is pure: no ${name} (inject it instead).` })),
    ],
    'no-restricted-properties': [
      'error',
      { object: 'Math', property: 'random', message: 'src/raft is deterministic: use the injected rng.' },
    ],
    'no-restricted-syntax': [
      'error',
      { selector: 'AwaitExpression', message: 'src/raft is synchronous.' },
      { selector: 'FunctionDeclaration[async=true]', message: 'src/raft is synchronous.' },
      { selector: 'ArrowFunctionExpression[async=true]', message: 'src/raft is synchronous.' },
      { selector: 'ImportExpression', message: 'src/raft does not load modules dynamically.' },
    ],
  },
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', 'coverage/', 'src/generated/', '.scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  rawCorePurity,
);
