#!/usr/bin/env bash
# infra/helm.sh — make sure Helm is available and print the path of the binary.
# Helm is built from the Go module proxy (`go install`, about 3 minutes on 2 cores) into
# ~/.cache/netpulse/bin and reused after that. v3.21.4 (v3.22.0 does not build here).
#
# Usage: infra/helm.sh            prints e.g. /root/.cache/netpulse/bin/helm
# Environment: NETPULSE_HELM_VERSION (default v3.21.4), GO (default: go on PATH or /usr/local/go/bin/go)

# shellcheck source-path=SCRIPTDIR
set -euo pipefail
export NP_LOG_TAG=helm
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

VERSION="${NETPULSE_HELM_VERSION:-v3.21.4}"
BIN_DIR="$(np_cache_dir)/bin"
HELM="$BIN_DIR/helm"
STAMP="$BIN_DIR/helm.version"

if [[ -x "$HELM" && "$(cat "$STAMP" 2>/dev/null)" == "$VERSION" ]]; then
    printf '%s\n' "$HELM"
    exit 0
fi
GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
[[ -x "$GO" ]] || np_die "go not found: Helm is built with go install (Go >= 1.26)"
major="${VERSION%%.*}"
mkdir -p "$BIN_DIR"
np_info "building helm $VERSION with go install (about 3 minutes, once)"
t0=$SECONDS
GOBIN="$BIN_DIR" "$GO" install "helm.sh/helm/$major/cmd/helm@$VERSION" >&2 ||
    np_die "go install helm.sh/helm/$major/cmd/helm@$VERSION failed"
printf '%s\n' "$VERSION" >"$STAMP"
np_info "helm $VERSION ready in $((SECONDS - t0)) s"
printf '%s\n' "$HELM"
