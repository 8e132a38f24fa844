// SPDX-License-Identifier: AGPL-3.0-or-later
// eslint.config.js — the lint rules of the dashboard's web app
// (dashboard/static/*.js: ES modules in a browser) and of its browser
// tests (tests/browser/*.mjs: node driving chromium). The rules are the
// ones that catch bugs, not taste: formatting is prettier's
// (.prettierrc.json beside this file). Run by tests/lint/run.sh.
import js from '@eslint/js';
import globals from 'globals';

const bugs = {
  ...js.configs.recommended.rules,
  'no-undef': 'error',
  'no-unused-vars': ['error', { args: 'after-used', caughtErrors: 'none', ignoreRestSiblings: true }],
  eqeqeq: ['error', 'always', { null: 'ignore' }],
  'no-implicit-globals': 'error',
  'no-shadow': ['error', { builtinGlobals: false, hoist: 'functions' }],
  'no-use-before-define': ['error', { functions: false, classes: true, variables: false }],
  'no-var': 'error',
  'prefer-const': ['error', { destructuring: 'all' }],
  'no-eval': 'error',
  'no-implied-eval': 'error',
  'no-new-func': 'error',
  'no-script-url': 'error',
  'no-self-compare': 'error',
  'no-template-curly-in-string': 'error',
  'no-unmodified-loop-condition': 'error',
  'no-unreachable-loop': 'error',
  'no-promise-executor-return': 'error',
  'no-constructor-return': 'error',
  'no-return-assign': ['error', 'except-parens'],
  'no-sequences': 'error',
  'no-throw-literal': 'error',
  'no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
  'no-useless-concat': 'error',
  'no-useless-return': 'error',
  'array-callback-return': 'error',
  'default-case-last': 'error',
  'no-restricted-properties': [
    'error',
    { property: 'innerHTML', message: 'Build elements with h() (dom.js): text never becomes markup.' },
    { property: 'outerHTML', message: 'Build elements with h() (dom.js): text never becomes markup.' },
    { property: 'insertAdjacentHTML', message: 'Build elements with h() (dom.js): text never becomes markup.' },
  ],
  'no-restricted-globals': ['error', 'event', 'name', 'length', 'status', 'top', 'parent', 'self', 'close', 'open'],
};

export default [
  {
    files: ['dashboard/static/**/*.js'],
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.browser } },
    rules: bugs,
  },
  {
    files: ['tests/browser/**/*.mjs'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      // Page functions passed to page.evaluate() run in the browser.
      globals: { ...globals.node, ...globals.browser },
    },
    rules: { ...bugs, 'no-restricted-globals': 'off' },
  },
];
