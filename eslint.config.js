// ESLint (flat config) for the browser scripts Frontdesk serves as they are, with no build
// step: the widget (a classic script on customers' pages) and the inbox (ES modules).
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/**", ".venv/**", "test-artifacts/**"] },
  {
    files: ["src/frontdesk/web/static/**/*.js"],
    ...js.configs.recommended,
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser },
    },
    rules: {
      ...js.configs.recommended.rules,
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-implicit-globals": "error",
      "no-var": "error",
      "prefer-const": "error",
      "no-unused-vars": ["error", { args: "after-used", argsIgnorePattern: "^_" }],
    },
  },
  {
    // The widget is loaded by a plain <script> tag on the host page, not as a module; its
    // parts (widget_*.js) are put into it by the server, inside its function.
    files: ["src/frontdesk/web/static/widget.js", "src/frontdesk/web/static/widget_*.js"],
    // The server replaces this placeholder with widget.css when it serves the file.
    languageOptions: { sourceType: "script", globals: { __FRONTDESK_WIDGET_CSS__: "readonly" } },
  },
];
