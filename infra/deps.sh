#!/usr/bin/env bash
# infra/deps.sh — install what netpulse needs to build and run its tests on Debian 12:
# the C libraries and tools (apt), a Java runtime and Maven for the Kafka broker, then the
# Kafka jars themselves (infra/kafka.sh fetch). Idempotent: when everything is present it only
# asks dpkg and returns in well under a second; `apt-get update` runs only if something must
# be installed. Needs root (or sudo) only when something is missing.
#
# Usage: infra/deps.sh [--no-kafka] [--images] [--fuzz]
#   --no-kafka   skip `infra/kafka.sh fetch` (apt packages only)
#   --images     also what container images and the Kubernetes tests need (podman with the
#                runc runtime, debootstrap for the base image: infra/images.sh, make images)
#   --fuzz       also clang (libFuzzer) for the fuzz targets: CC=clang cmake -DNP_BUILD_FUZZERS=ON
# Environment: NETPULSE_APT_EXTRA="pkg ..." installs more apt packages the same way.
# Prints one summary line on stdout: "deps: installed: ... | already present: N packages | kafka: ..."

# shellcheck source-path=SCRIPTDIR
set -euo pipefail

export NP_LOG_TAG=deps
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

fetch_kafka=1
images=0
fuzz=0
for arg in "$@"; do
    case "$arg" in
        --no-kafka) fetch_kafka=0 ;;
        --images) images=1 ;;
        --fuzz) fuzz=1 ;;
        -h | --help) sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
        *) np_die "unknown argument: $arg" ;;
    esac
done

PACKAGES=(
    # C build
    cmake make gcc pkg-config
    # libraries
    librdkafka-dev libzmq3-dev libczmq-dev libprotobuf-c-dev protobuf-c-compiler
    libhiredis-dev libcmocka-dev libmicrohttpd-dev libcurl4-openssl-dev
    # services and tools used by infra/ and the tests
    redis-server kcat python3 maven
    # tools/kdd/setup-venv.sh: the NSL-KDD training tool's venv (pinned scikit-learn via pip;
    # the exactness test and 0140-intrusion use it)
    python3-venv
    # observability: Prometheus and promtool (0100-metrics: promtool check metrics; prometheus/,
    # tests/prometheus, 0110), Node.js for the dashboards' schema check (tests/grafana)
    prometheus nodejs
    # security (SECURITY.md): libFuzzer targets (clang + its runtime, tests/fuzz/run.sh), the
    # Redis TLS sidecar and test certificates (0155: stunnel4, openssl; keytool comes with Java)
    clang libclang-rt-14-dev stunnel4 openssl
    # netpulse-ingest's pcap replay (libpcap) and its tests with real exporters and decoders
    # (0130-ingest: softflowd, pmacctd's sfprobe plugin, nfcapd/nfdump)
    libpcap-dev softflowd pmacct nfdump
)
# A JRE only if there is no java at all (Debian's maven depends on one anyway).
if ! command -v java >/dev/null 2>&1; then
    PACKAGES+=(default-jre-headless)
fi
# npm: Debian ships it as its own package; Node.js builds that bundle it have no such package.
if ! command -v npm >/dev/null 2>&1; then
    PACKAGES+=(npm)
fi
# The live page's browser test (tests/integration/0120-web.sh): Debian's Chromium, driven by
# playwright-core from npm (tests/web, `npm ci`; playwright-core 1.49 wants Node >= 18,
# Debian 12 has 18).
PACKAGES+=(chromium)
if [[ -n "${NETPULSE_APT_EXTRA:-}" ]]; then
    read -r -a extra <<<"$NETPULSE_APT_EXTRA"
    PACKAGES+=("${extra[@]}")
fi
# Images (infra/images.sh) and the Kubernetes tests (tests/helm, 0210-kube-play): rootful
# podman with runc (crun fails on hybrid cgroups), debootstrap for the base image, catatonit
# (podman kube play builds its pause image from it), Node.js for tests/helm/validate.mjs.
if ((images)); then
    PACKAGES+=(podman runc debootstrap catatonit nodejs)
fi

if ((fuzz)); then
    PACKAGES+=(clang)
fi

# is_installed PKG: dpkg knows PKG as fully installed.
is_installed() {
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

# One dpkg-query for all packages (packages dpkg never heard of are simply not listed).
declare -A status=()
while read -r pkg st; do
    status["${pkg%%:*}"]="$st"
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
missing=()
present=0
for pkg in "${PACKAGES[@]}"; do
    if [[ "${status[$pkg]:-}" == installed ]]; then
        present=$((present + 1))
    else
        missing+=("$pkg")
    fi
done

installed="none"
if ((${#missing[@]})); then
    np_info "installing: ${missing[*]}"
    SUDO=()
    if [[ "$(id -u)" != 0 ]]; then
        command -v sudo >/dev/null 2>&1 || np_die "not root and no sudo: cannot install ${missing[*]}"
        SUDO=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq >&2 || np_die "apt-get update failed"
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
        np_die "apt-get install failed for: ${missing[*]}"
    for pkg in "${missing[@]}"; do
        is_installed "$pkg" || np_die "$pkg is still not installed"
    done
    installed="${missing[*]}"
fi
# The Debian redis-server package starts a system-wide redis on port 6379 when installed;
# netpulse never uses it (infra/redis.sh runs its own), so it is left as Debian set it up.
# Likewise Debian's prometheus package may start a system Prometheus on port 9090; netpulse's
# scripts (prometheus/run.sh, 0110-prometheus) run their own on a free port.

kafka_state="skipped"
if ((fetch_kafka)); then
    "$NP_INFRA_DIR/kafka.sh" fetch
    kafka_state="jars ready"
fi

# npm packages of the browser test (exact versions from tests/web/package-lock.json).
web_state="npm ci failed"
"$NP_INFRA_DIR/../tests/web/install.sh" >&2 && web_state="ready"

printf 'deps: installed: %s | already present: %d packages | kafka: %s | web test: %s\n' "$installed" "$present" \
    "$kafka_state" "$web_state"
