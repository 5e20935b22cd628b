#!/usr/bin/env bash
# Creates (or reuses) the Python venv for the NSL-KDD training tool under
# ~/.cache/netpulse/kdd-venv and installs the pinned requirements with pip.
# Prints the venv's python path on stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${NETPULSE_KDD_VENV:-$HOME/.cache/netpulse/kdd-venv}"
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv" >&2
fi
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
    echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
