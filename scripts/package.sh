#!/usr/bin/env bash
# Builds sql-insight-<version>.vsix with @vscode/vsce (vscode:prepublish makes the minified bundles).
# vsce is installed on first use into .e2e/vsce instead of devDependencies: every vsce release that runs on
# Node 20 has keytar as an optional dependency, whose install script tries to download a prebuilt binary
# from outside the npm registry on every `npm ci`. Packaging needs neither keytar nor any install script.
set -euo pipefail
cd "$(dirname "$0")/.."

VSCE_VERSION=3.9.2
vsce=.e2e/vsce/node_modules/@vscode/vsce
if [ "$(node -p "require('./$vsce/package.json').version" 2>/dev/null)" != "$VSCE_VERSION" ]; then
  mkdir -p .e2e/vsce
  echo '{ "private": true }' >.e2e/vsce/package.json
  npm install --prefix .e2e/vsce --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error \
    "@vscode/vsce@$VSCE_VERSION"
fi

# --skip-license: the licence is declared in package.json and the repository has no LICENSE file yet.
# --no-rewrite-relative-links: the repository URL is not a public GitHub/GitLab one vsce could point links at.
exec node "$vsce/vsce" package --no-dependencies --skip-license --no-rewrite-relative-links "$@"
