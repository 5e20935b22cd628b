# shellcheck shell=bash
# infra/lib.sh — helpers sourced by the netpulse infra scripts (infra/*.sh) and by the
# integration tests. Not meant to be executed.
#
#   np_info MSG...            log a line to stderr ("[netpulse TAG HH:MM:SS] MSG")
#   np_warn MSG...            same, marked WARN
#   np_die MSG...             log and exit 1
#   np_free_port [N]          print N (default 1) distinct free TCP ports on 127.0.0.1
#   np_port_in_use PORT       exit 0 if something listens on 127.0.0.1:PORT
#   np_wait_for [-t SECS] [-i SECS] [-m WHAT] [-q] CMD [ARGS...]
#                             run CMD (a command or shell function, output discarded) until
#                             it exits 0; return 1 after the timeout (whole seconds, default
#                             ${NP_WAIT_TIMEOUT:-30}; interval default 0.1 s), with a warning
#                             naming WHAT unless -q
#   np_pid_alive PID          exit 0 if PID exists and is not a zombie
#   np_pid_cmdline PID        print PID's command line, NULs turned into spaces
#   np_pid_gone PID           exit 0 if PID is not alive
#   np_pids_matching STRING   print the pids whose command line contains STRING (fixed string)
#   np_ms_since START_NS      milliseconds since START_NS (a `date +%s%N` value)
#   np_abspath PATH           print PATH made absolute (PATH need not exist)
#   np_cache_dir              print ${NETPULSE_CACHE:-$HOME/.cache/netpulse}
#
# Variables set: NP_INFRA_DIR (this directory), NP_ROOT (repo root unless already set).

if [[ -n "${NP_LIB_SH_LOADED:-}" ]]; then
    return 0
fi
NP_LIB_SH_LOADED=1

NP_INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NP_ROOT="${NP_ROOT:-$(cd "$NP_INFRA_DIR/.." && pwd)}"
NP_LOG_TAG="${NP_LOG_TAG:-infra}"
export NP_ROOT

np_info() {
    printf '[netpulse %s %(%H:%M:%S)T] %s\n' "$NP_LOG_TAG" -1 "$*" >&2
}

np_warn() {
    printf '[netpulse %s %(%H:%M:%S)T] WARN: %s\n' "$NP_LOG_TAG" -1 "$*" >&2
}

np_die() {
    printf '[netpulse %s %(%H:%M:%S)T] ERROR: %s\n' "$NP_LOG_TAG" -1 "$*" >&2
    exit 1
}

np_cache_dir() {
    printf '%s\n' "${NETPULSE_CACHE:-${HOME:-/root}/.cache/netpulse}"
}

np_abspath() {
    case "$1" in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s/%s\n' "$PWD" "${1#./}" ;;
    esac
}

# np_port_in_use PORT: something accepts connections on 127.0.0.1:PORT.
np_port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# np_free_port [N]: N (default 1) distinct ports free right now, one a line. They are drawn
# below the kernel's ephemeral range: a port the kernel hands out for bind(0) lies inside it,
# and an outgoing connection (a Kafka client, a worker's ZeroMQ socket) may take it before the
# process it was meant for binds it (CI saw "Address already in use" on a coordinator port).
# Ports handed out in the last 10 minutes are remembered in a small registry and not reused,
# so two calls in one test never collide. There is still a window between this and the real
# bind; callers store the port and fail loudly if the bind then fails.
np_free_port() {
    local n="${1:-1}" port i found=0
    if command -v python3 >/dev/null 2>&1; then
        # -S -I: no site import, ~10x faster start-up.
        python3 -S -I -c 'import fcntl, os, random, socket, sys, time
n = int(sys.argv[1])
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
low = max(low, 12000)
reg = os.path.join(os.environ.get("TMPDIR", "/tmp"), "netpulse-ports.%d" % os.getuid())
fd = os.open(reg, os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
now = time.time()
recent = {}
for line in os.read(fd, 1 << 20).decode(errors="replace").split():
    port, _, ts = line.partition(":")
    try:
        if now - float(ts) < 600:
            recent[int(port)] = float(ts)
    except ValueError:
        pass
def free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("0.0.0.0", port))
        return True
    except OSError:
        return False
    finally:
        s.close()
out = []
for _ in range(2000):
    if len(out) == n:
        break
    port = random.randrange(10000, low)
    if port in recent or port in out or not free(port):
        continue
    out.append(port)
    recent[port] = now
if len(out) < n:
    sys.exit("np_free_port: no free port found")
os.lseek(fd, 0, os.SEEK_SET)
os.ftruncate(fd, 0)
os.write(fd, "".join("%d:%.0f\n" % kv for kv in recent.items()).encode())
print("\n".join(map(str, out)))' "$n"
        return
    fi
    # Fallback without python3: random ports below the ephemeral range, unused right now.
    local seen=" "
    for ((i = 0; i < 200 && found < n; i++)); do
        port=$((12000 + RANDOM % 20000))
        [[ "$seen" == *" $port "* ]] && continue
        if ! np_port_in_use "$port"; then
            printf '%s\n' "$port"
            seen+="$port "
            found=$((found + 1))
        fi
    done
    ((found == n)) || { np_warn "np_free_port: no free port found"; return 1; }
}

# np_wait_for [-t TIMEOUT_SECS] [-i INTERVAL_SECS] [-m WHAT] [-q] CMD [ARGS...]
# Runs CMD (output discarded) until it succeeds. Returns 0 on success, 1 on timeout.
np_wait_for() {
    local timeout="${NP_WAIT_TIMEOUT:-30}" interval=0.1 what="" quiet=0
    while [[ $# -gt 0 ]]; do
        case "$1" in
            -t) timeout="$2"; shift 2 ;;
            -i) interval="$2"; shift 2 ;;
            -m) what="$2"; shift 2 ;;
            -q) quiet=1; shift ;;
            --) shift; break ;;
            *) break ;;
        esac
    done
    [[ $# -gt 0 ]] || { np_warn "np_wait_for: no command"; return 2; }
    local now deadline
    now="$(date +%s%N)"
    deadline=$((now + ${timeout%.*} * 1000000000))
    while true; do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        now="$(date +%s%N)"
        if ((now >= deadline)); then
            ((quiet)) || np_warn "timed out after ${timeout}s waiting for ${what:-$*}"
            return 1
        fi
        sleep "$interval"
    done
}

np_pid_alive() {
    local pid="$1" state
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -r "/proc/$pid/stat" ]] || return 1
    # Field 3 of /proc/PID/stat is the state; Z (zombie) and X (dead) are not alive.
    state="$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$pid/stat" 2>/dev/null)" || return 1
    [[ "$state" != Z && "$state" != X ]]
}

np_pid_cmdline() {
    local pid="$1"
    [[ -r "/proc/$pid/cmdline" ]] || return 1
    tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline"
}

np_pid_gone() { ! np_pid_alive "$1"; }

np_pids_matching() {
    local needle="$1" d pid parts
    for d in /proc/[0-9]*; do
        pid="${d#/proc/}"
        [[ "$pid" == "$$" || "$pid" == "$BASHPID" ]] && continue
        mapfile -d '' -t parts 2>/dev/null <"$d/cmdline" || continue
        ((${#parts[@]})) || continue
        if [[ "${parts[*]}" == *"$needle"* ]] && np_pid_alive "$pid"; then
            printf '%s\n' "$pid"
        fi
    done
}

# np_ms_since START_NS: milliseconds elapsed since START_NS (from `date +%s%N`).
np_ms_since() {
    local now
    now="$(date +%s%N)"
    printf '%s\n' $(((now - $1) / 1000000))
}

# np_state_dir_arg DIR: sets STATE to DIR made absolute, without a trailing slash; calls
# the script's own usage() when DIR is missing.
np_state_dir_arg() {
    [[ $# -ge 1 && -n "$1" ]] || usage
    STATE="$(np_abspath "$1")"
    STATE="${STATE%/}"
}

# np_lock_state NAME SECONDS: holds $STATE/.NAME.lock (fd 9) until the script exits, so two
# runs of one script on one state dir never interleave.
np_lock_state() {
    mkdir -p "$STATE"
    exec 9>"$STATE/.$1.lock"
    flock -w "$2" 9 || np_die "another $1 holds $STATE/.$1.lock"
}
