#!/usr/bin/env bash
# infra/images.sh — build the netpulse container image with podman, from nothing but the
# Debian package mirror apt already uses (these machines have no image registry).
#
#   1. base image `debian:bookworm-slim`: if podman does not have it, a
#      `debootstrap --variant=minbase bookworm` rootfs from the host's apt mirror is made
#      (cached as a tarball under ~/.cache/netpulse/images/) and `podman import`ed under that name;
#   2. `podman build --network host` of the repo's Dockerfile -> netpulse:<version> and netpulse:latest.
#
# Usage: infra/images.sh [--base-only] [--rebuild-base] [--quiet]
# Environment: NETPULSE_IMAGE (default netpulse), NETPULSE_DEBIAN_MIRROR (default: first
#   Debian mirror in /etc/apt/sources.list*), CONTAINERS_CONF (default infra/podman/containers.conf).
# Prints one line per step with its duration in seconds on stderr, and the image name on stdout.
# Needs root (debootstrap, rootful podman).

# shellcheck source-path=SCRIPTDIR
set -euo pipefail
export NP_LOG_TAG=images
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

base_only=0
rebuild_base=0
quiet=()
for arg in "$@"; do
    case "$arg" in
        --base-only) base_only=1 ;;
        --rebuild-base) rebuild_base=1 ;;
        --quiet) quiet=(--quiet) ;;
        -h | --help) sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
        *) np_die "unknown argument: $arg" ;;
    esac
done

export CONTAINERS_CONF="${CONTAINERS_CONF:-$NP_INFRA_DIR/podman/containers.conf}"
IMAGE="${NETPULSE_IMAGE:-netpulse}"
BASE="debian:bookworm-slim"
CACHE="$(np_cache_dir)/images"
VERSION="$(sed -n 's/^project(netpulse VERSION \([0-9.]*\).*/\1/p' "$NP_ROOT/CMakeLists.txt")"

for tool in podman debootstrap; do
    command -v "$tool" >/dev/null 2>&1 || np_die "$tool not found (infra/deps.sh --images installs it)"
done

# debian_mirror: the first Debian (not security) mirror apt uses, deb822 or one-line format.
debian_mirror() {
    if [[ -n "${NETPULSE_DEBIAN_MIRROR:-}" ]]; then
        printf '%s\n' "$NETPULSE_DEBIAN_MIRROR"
        return
    fi
    local m
    m="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
        grep -oE '(https?|file)://[^ ]*/debian/?( |$)' | grep -v security | head -n1 | tr -d ' ')"
    [[ -n "$m" ]] || m="http://deb.debian.org/debian"
    printf '%s\n' "${m%/}"
}

# make_base_tarball OUT: debootstrap a minbase bookworm and pack it.
make_base_tarball() {
    local out="$1" root mirror
    mirror="$(debian_mirror)"
    root="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
    np_info "debootstrap --variant=minbase bookworm from $mirror (a few minutes)"
    if ! debootstrap --variant=minbase bookworm "$root" "$mirror" >"$CACHE/debootstrap.log" 2>&1; then
        rm -rf "$root"
        np_die "debootstrap failed, see $CACHE/debootstrap.log"
    fi
    # What a slim image leaves out: package caches and lists (apt-get update refills them).
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" --numeric-owner -czf "$out.tmp" .
    mv "$out.tmp" "$out"
    rm -rf "$root"
}

ensure_base() {
    local tarball="$CACHE/debian-bookworm-minbase.tar.gz" t0=$SECONDS
    mkdir -p "$CACHE"
    if ((rebuild_base)); then
        rm -f "$tarball"
        podman rmi -f "$BASE" >/dev/null 2>&1 || true
    fi
    if podman image exists "$BASE"; then
        np_info "base $BASE: present"
        return
    fi
    [[ -s "$tarball" ]] || make_base_tarball "$tarball"
    podman import --quiet --change 'CMD ["bash"]' "$tarball" "$BASE" >/dev/null
    np_info "base $BASE: ready in $((SECONDS - t0)) s ($(du -h "$tarball" | cut -f1) tarball)"
}

build_image() {
    local t0=$SECONDS
    podman build --network host "${quiet[@]}" \
        --build-arg "NETPULSE_VERSION=$VERSION" \
        --build-arg "NETPULSE_REVISION=$(git -C "$NP_ROOT" rev-parse HEAD 2>/dev/null || echo unknown)" \
        -t "$IMAGE:$VERSION" -t "$IMAGE:latest" -f "$NP_ROOT/Dockerfile" "$NP_ROOT" >&2
    np_info "image $IMAGE:$VERSION: built in $((SECONDS - t0)) s"
}

ensure_base
((base_only)) && exit 0
build_image
printf '%s:%s\n' "$IMAGE" "$VERSION"
