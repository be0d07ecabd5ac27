// ESLint, flat config: typescript-eslint's type-checked rules on src/, test/ and bench/ (the project's tsconfig).
// Formatting is Prettier's (.prettierrc.json); no ESLint rule here is about layout.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "docs/api/**", "native/build/**", "src/backend/kernels/*Wasm.ts", "**/*.js", "**/*.mjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // CommonJS on purpose: lazy loading of optional or heavy modules (tfjs-node, bullmq, the CLI's commands).
      "@typescript-eslint/no-require-imports": "off",
      // Unused names are compile errors already (tsconfig noUnusedLocals/noUnusedParameters); `_`-prefixed ones are intended.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      // Error messages interpolate numbers, booleans, null and shapes (number arrays print as "2,3,4" on purpose).
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true, allowNullish: true, allowArray: true, allowRegExp: true }],
      // Error messages show values of unknown type with String(value) on purpose (what the user passed, as it prints).
      "@typescript-eslint/no-base-to-string": "off",
      // Methods are taken off objects deliberately and called with .call(owner) (ts.sys patching) or compared by identity.
      "@typescript-eslint/unbound-method": "off",
    },
  },
  {
    // Tests: mocha's `this` in function callbacks, and assertions on values typed loosely on purpose (JSON read back).
    files: ["test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
);
