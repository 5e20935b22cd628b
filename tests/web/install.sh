#!/usr/bin/env bash
# tests/web/install.sh — installs the browser test's npm packages (playwright-core, exact
# versions from package-lock.json) into tests/web/node_modules with `npm ci`, unless they are
# already there for this lock file. The browser itself is Debian's chromium (infra/deps.sh);
# playwright downloads nothing (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
stamp=node_modules/.netpulse-lock
if [[ -f "$stamp" ]] && cmp -s package-lock.json "$stamp"; then
    exit 0
fi
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json "$stamp"
