#!/usr/bin/env bash
# Formats the whole codebase once with Prettier and applies ESLint's safe fixes: run after all branches are merged
# (a format on one branch would conflict with every other), then commit the result as one "format" commit.
set -euo pipefail
cd "$(dirname "$0")/.."
npx prettier --write "src/**/*.ts" "test/**/*.ts" "bench/**/*.ts" "scripts/**/*.js" "*.md" "*.json" "eslint.config.mjs"
npx eslint --fix src test bench
npm run build --silent
echo "formatted; now: npm run lint && npm test"
