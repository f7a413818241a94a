// ESLint for the web app (services/gateway/gateway/web/assets): plain ES modules in the browser, no build step.
// Run from the repository root: tests/web/node_modules/.bin/eslint -c tests/web/eslint.config.js (make lint).
import js from "@eslint/js";
import globals from "globals";

export default [
  {
    files: ["services/gateway/gateway/web/assets/**/*.js"],
    ...js.configs.recommended,
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: "module",
      globals: { ...globals.browser },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      ...js.configs.recommended.rules,
      "no-unused-vars": ["error", { args: "after-used", argsIgnorePattern: "^_", caughtErrors: "none" }],
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-var": "error",
      "prefer-const": "error",
      "no-implied-eval": "error",
      "no-new-func": "error",
      "no-eval": "error",
      "no-script-url": "error",
      "no-restricted-syntax": ["error",
        // The CSP allows no inline script: event handlers are attached with addEventListener (ui.js `h`), never as
        // HTML attributes, and no HTML is parsed from strings.
        { selector: "AssignmentExpression[left.property.name='innerHTML']", message: "Build DOM nodes (ui.js h), do not parse HTML." },
        { selector: "AssignmentExpression[left.property.name='outerHTML']", message: "Build DOM nodes (ui.js h), do not parse HTML." },
        { selector: "CallExpression[callee.property.name='insertAdjacentHTML']", message: "Build DOM nodes (ui.js h), do not parse HTML." },
        { selector: "CallExpression[callee.property.name='setAttribute'][arguments.0.value=/^on/]", message: "Attach listeners with addEventListener (the CSP blocks inline handlers)." },
      ],
    },
  },
];
