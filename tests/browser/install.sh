#!/bin/sh
# Installs the npm part of the browser tests (playwright-core, which brings
# no browser of its own: the tests drive Debian's chromium, which
# scripts/deps.sh installs). Idempotent: nothing is fetched when the
# pinned version is installed already.
set -eu
cd "$(dirname "$0")"
want=$(sed -n 's/.*"playwright-core": "\([^"]*\)".*/\1/p' package.json)
have=$(sed -n 's/.*"version": "\([^"]*\)".*/\1/p' node_modules/playwright-core/package.json 2>/dev/null || true)
if [ "$have" = "$want" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "install.sh: npm is missing (it comes with nodejs; Debian: package npm)" >&2
    exit 1
fi
npm install --no-audit --no-fund --no-save --loglevel=error "playwright-core@$want" >&2
