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
      // Off: error messages interpolate numbers, booleans, null and shapes on purpose, and the rule's array check
      // recurses without end on the recursive JsonValue type (typescript-eslint 8.74 crashes at src/study/study.ts).
      "@typescript-eslint/restrict-template-expressions": "off",
      // Error messages show values of unknown type with String(value) on purpose (what the user passed, as it prints).
      "@typescript-eslint/no-base-to-string": "off",
      // Methods are taken off objects deliberately and called with .call(owner) (ts.sys patching) or compared by identity.
      "@typescript-eslint/unbound-method": "off",
      // A caught value is rejected as it was caught (a synchronous throw turned into a rejection), as `throw e` would.
      "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingUnknown: true }],
      // A `let` that closures read before its one assignment stays `let`: as a `const` they would hit its TDZ.
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Widgets declare each model's synced fields as an interface merged with its class: the fields are defined at
    // run time (Object.defineProperty in Widget's constructor, one per state key), which the merge types.
    files: ["src/widgets/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-declaration-merging": "off",
      // Such an interface only extends the fields' type (`interface IntSlider extends SliderFields {}`), so it is empty.
      "@typescript-eslint/no-empty-object-type": ["error", { allowInterfaces: "with-single-extends" }],
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
