// ESLint (flat config), run by `npm run lint` and so by `make check`. The recommended rules
// include no-unexpected-multiline: the sources omit semicolons, so a line starting with ( [ or `
// would continue the statement before it (`a = true\n(x).focus()` calls `true(x)`).
import js from '@eslint/js'
import globals from 'globals'

export default [
  { ignores: ['static/', 'node_modules/'] },
  js.configs.recommended,
  // an argument named _x documents a callback's signature without being used
  { rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_' }] } },
  {
    files: ['src/**/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: globals.browser },
  },
  {
    files: ['test/**/*.js', '*.js', '*.mjs'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: globals.node },
  },
]
