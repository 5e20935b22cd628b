#!/usr/bin/env bash
# infra/kafka.sh — run a throw-away single-node Apache Kafka (KRaft, combined broker +
# controller, official jars from Maven Central) on 127.0.0.1 for netpulse development and
# tests. Everything a broker owns lives in one STATE_DIR; several STATE_DIRs can run at once.
#
# Usage: infra/kafka.sh COMMAND [STATE_DIR]
#   fetch                    resolve the Kafka jars (infra/kafka/pom.xml) into the cache, compile
#                            infra/kafka/NpAdmin.java and build class-data-sharing archives that
#                            make JVM start-up ~1 s faster. Idempotent; fast when done.
#   start STATE_DIR          start the broker (format storage on first use); prints the bootstrap
#                            address on stdout. No-op if it is already running.
#   stop STATE_DIR           SIGTERM, wait up to NETPULSE_KAFKA_STOP_TIMEOUT (20 s), then SIGKILL
#                            the process group. Safe when nothing runs.
#   status STATE_DIR         exit 0 if the broker runs and answers metadata requests, else 1.
#   create-topics STATE_DIR  create network-traffic, processed-data, network-traffic-dlq,
#                            network-traffic-repartition (as many partitions as network-traffic),
#                            network-connections (NSL-KDD records to classify;
#                            NETPULSE_CONNECTIONS_PARTITIONS, default 4)
#                            (idempotent) and wait until every partition has a leader.
#   bootstrap STATE_DIR      print the bootstrap address (host:port).
#   logs STATE_DIR           print the tail of the broker log.
#
# Environment:
#   NETPULSE_CACHE                 cache root (default ~/.cache/netpulse); jars go to
#                                  $NETPULSE_CACHE/kafka-<version>/libs
#   NETPULSE_KAFKA_VERSION         Kafka release to run instead of the pom's <kafka.version>
#                                  (e.g. 3.9.1; passed to mvn as -Dkafka.version, own cache dir)
#   NETPULSE_KAFKA_PORT            broker port (default: a free port, chosen once per STATE_DIR)
#   NETPULSE_KAFKA_CONTROLLER_PORT controller port (same rule)
#   NETPULSE_PARTITIONS            partitions of network-traffic (default 12)
#   NETPULSE_OUTPUT_PARTITIONS     partitions of processed-data (default 1)
#   NETPULSE_KAFKA_HEAP            broker -Xmx (default 512m)
#   NETPULSE_KAFKA_JAVA_OPTS       extra JVM options for the broker (appended, so they win)
#   NETPULSE_KAFKA_CONFIG_EXTRA    extra server.properties lines (appended, so they win)
#   NETPULSE_KAFKA_SCRAM           SCRAM users to create when the storage is formatted (first
#                                  start only), one StorageTool --add-scram value a line:
#                                  SCRAM-SHA-512=[name=USER,password=PASSWORD]
#   NETPULSE_KAFKA_START_TIMEOUT   seconds to wait for the broker (default 60)
#   NETPULSE_KAFKA_STOP_TIMEOUT    seconds to wait after SIGTERM (default 20)
#   NETPULSE_KAFKA_CDS=0           do not build / use class-data-sharing archives
#   NETPULSE_KAFKA_KEEP_TRAIN=1    keep the CDS training dir when training fails (debugging)
#
# JVM: -Xmx512m, Serial GC, C1 JIT only (-XX:TieredStopAtLevel=1 starts ~1.3 s faster on 2
# cores). For broker-throughput benchmarks use NETPULSE_KAFKA_JAVA_OPTS=-XX:TieredStopAtLevel=4.
# A broker killed with SIGKILL restarts ~4 s slower (broker.session.timeout.ms=4000 must lapse).
#
# Cache ($NETPULSE_CACHE/kafka-<version>/): libs/ (jars), tools/netpulse-tools.jar (NpAdmin),
# cds/*.jsa (class-data-sharing archives); each has a .netpulse-complete marker keyed on its
# inputs, so editing infra/kafka/pom.xml refetches. Delete cds/ to retrain the archives.
#
# Files in STATE_DIR:
#   server.properties  generated config (rewritten on each start)
#   kafka.port         broker port            kafka.controller.port  controller port
#   kafka.cluster-id   KRaft cluster id       bootstrap              "127.0.0.1:PORT"
#   kafka.pid          broker pid (= its process group and session id)
#   kafka-data/        log.dirs (topics, metadata log)      logs/  server.log, kafka.out
#   .kafka-sh.lock     serialises concurrent kafka.sh calls on the same STATE_DIR

# shellcheck source-path=SCRIPTDIR
set -euo pipefail

export NP_LOG_TAG=kafka
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

KAFKA_CONF_DIR="$NP_INFRA_DIR/kafka"
KAFKA_POM="$KAFKA_CONF_DIR/pom.xml"
POM_KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM" | head -n 1)"
[[ -n "$POM_KAFKA_VERSION" ]] || np_die "cannot read <kafka.version> from $KAFKA_POM"
KAFKA_VERSION="$POM_KAFKA_VERSION"
# Another Kafka release (e.g. 3.9.x for SCRAM with Debian 12's librdkafka, see SECURITY.md):
# the same pom with -Dkafka.version, cached apart in kafka-<version>/.
if [[ -n "${NETPULSE_KAFKA_VERSION:-}" ]]; then
    [[ "$NETPULSE_KAFKA_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
        np_die "NETPULSE_KAFKA_VERSION: '$NETPULSE_KAFKA_VERSION' is not a release number like 3.9.1"
    KAFKA_VERSION="$NETPULSE_KAFKA_VERSION"
fi
KAFKA_HOME="$(np_cache_dir)/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"
KAFKA_TOOLS_CLASSES="$KAFKA_HOME/tools"
KAFKA_CDS_DIR="$KAFKA_HOME/cds"
COMPLETE=.netpulse-complete

JVM_COMMON=(-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true)
TOOLS_JVM=(-Xmx256m -Xms32m "${JVM_COMMON[@]}" -Xlog:disable -Xlog:all=warning:stderr
    "-Dlog4j2.configurationFile=$KAFKA_CONF_DIR/tools-log4j2.properties")

usage() {
    sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

sha_of() { sha256sum "$@" | awk '{print $1}' | sha256sum | cut -c1-16; }

# The pom's hash alone for its own version (so existing caches stay valid), plus the version
# when NETPULSE_KAFKA_VERSION picks another one.
libs_key() {
    local key
    key="$(sha_of "$KAFKA_POM")"
    [[ "$KAFKA_VERSION" == "$POM_KAFKA_VERSION" ]] || key="$key-$KAFKA_VERSION"
    printf '%s\n' "$key"
}

marker_ok() { [[ -f "$1/$COMPLETE" && "$(cat "$1/$COMPLETE")" == "$2" ]]; }

# ---------------------------------------------------------------- fetch

fetch_libs() {
    local key tmp log
    key="$(libs_key)"
    marker_ok "$KAFKA_LIBS" "$key" && return 0
    command -v mvn >/dev/null 2>&1 || np_die "mvn not found: run infra/deps.sh"
    np_info "resolving Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS"
    tmp="$KAFKA_HOME/libs.tmp.$$"
    log="$KAFKA_HOME/mvn.log"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    if ! mvn -B -q -Dstyle.color=never -f "$KAFKA_POM" "-Dkafka.version=$KAFKA_VERSION" dependency:copy-dependencies \
        -DincludeScope=runtime "-DoutputDirectory=$tmp" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        rm -rf "$tmp"
        np_die "mvn failed (full log: $log)"
    fi
    ls "$tmp"/kafka_2.13-*.jar "$tmp"/kafka-clients-*.jar >/dev/null 2>&1 ||
        { rm -rf "$tmp"; np_die "mvn produced no Kafka jars in $tmp"; }
    printf '%s\n' "$key" >"$tmp/$COMPLETE"
    rm -rf "$KAFKA_LIBS" "$KAFKA_TOOLS_CLASSES" "$KAFKA_CDS_DIR"
    mv -T "$tmp" "$KAFKA_LIBS"
    np_info "Kafka jars ready ($(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars)"
}

fetch_tools() {
    local src="$KAFKA_CONF_DIR/NpAdmin.java" key tmp clients
    key="jar-$(sha_of "$src" "$KAFKA_LIBS/$COMPLETE")"
    marker_ok "$KAFKA_TOOLS_CLASSES" "$key" && return 0
    tmp="$KAFKA_HOME/tools.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp/classes"
    clients="$(ls "$KAFKA_LIBS"/kafka-clients-*.jar)"
    # Debian's JRE ships the jdk.compiler and jdk.jartool modules: no JDK binaries needed.
    # A jar, not a class directory: class-data sharing refuses non-empty directories.
    if java -m jdk.compiler/com.sun.tools.javac.Main -nowarn --release 17 -d "$tmp/classes" \
        -cp "$clients" "$src" >&2 &&
        java -m jdk.jartool/sun.tools.jar.Main cf "$tmp/netpulse-tools.jar" -C "$tmp/classes" . >&2; then
        rm -rf "$tmp/classes"
        printf '%s\n' "$key" >"$tmp/$COMPLETE"
        rm -rf "$KAFKA_TOOLS_CLASSES" "$KAFKA_CDS_DIR"
        mv -T "$tmp" "$KAFKA_TOOLS_CLASSES"
    else
        rm -rf "$tmp"
        np_warn "could not build $src; create-topics falls back to TopicCommand (slower)"
    fi
}

# Class-data-sharing: a training run of a broker, StorageTool and NpAdmin dumps the classes
# they load into archives (broker.jsa, tools.jsa, admin.jsa) that later JVMs map instead of
# loading and verifying ~4000 classes again (broker start-up 3.2 s -> 2.2 s).
cds_key() {
    local key
    key="$(sha_of "$KAFKA_LIBS/$COMPLETE" "$KAFKA_CONF_DIR"/*.properties)"
    # Archives only work with the JVM build that wrote them: key on the JVM binary too.
    local jvm
    jvm="$(readlink -f "$(command -v java)" 2>/dev/null || echo java)"
    jvm="$jvm $(stat -c %Y:%s "${jvm%/bin/java}/lib/server/libjvm.so" 2>/dev/null || true)"
    key="$key-$(printf '%s\n' "${JVM_COMMON[*]}" "$jvm" | sha256sum | cut -c1-8)"
    if [[ -f "$KAFKA_TOOLS_CLASSES/$COMPLETE" ]]; then
        key="$key-$(cat "$KAFKA_TOOLS_CLASSES/$COMPLETE")"
    fi
    printf '%s\n' "$key"
}

fetch_cds() {
    local key train port cport pid ok=1 names=(broker tools) n
    # The training broker is a plain one whatever the caller's broker is to be (a test's
    # listeners, ports or SCRAM users would break it or end up in the archives' run).
    local NETPULSE_KAFKA_CONFIG_EXTRA="" NETPULSE_KAFKA_SCRAM=""
    [[ "${NETPULSE_KAFKA_CDS:-1}" != 0 ]] || return 0
    key="$(cds_key)"
    marker_ok "$KAFKA_CDS_DIR" "$key" && return 0
    np_info "building class-data-sharing archives (one-time training run, ~15 s)"
    rm -rf "$KAFKA_CDS_DIR" "$KAFKA_HOME"/cds-train.*
    mkdir -p "$KAFKA_CDS_DIR"
    train="$KAFKA_HOME/cds-train.$$"
    mkdir -p "$train/logs"
    { read -r port; read -r cport; } < <(np_free_port 2)
    printf '%s\n' "$port" >"$train/kafka.port"
    write_server_properties "$train" "$port" "$cport"
    CDS_TRAINING=1
    # If fetch is interrupted, do not leave the training broker running.
    CDS_TRAIN_DIR="$train"
    trap 'cds_train_abort' EXIT
    trap 'exit 130' INT TERM
    format_storage "$train" || ok=0
    if ((ok)); then
        launch_broker "$train"
        pid="$(cat "$train/kafka.pid")"
        if wait_ready "$train" "$pid" 90; then
            if [[ -f "$KAFKA_TOOLS_CLASSES/$COMPLETE" ]]; then
                names+=(admin)
                run_tool admin NpAdmin create "127.0.0.1:$port" cds-train:2 >"$train/logs/admin.log" 2>&1 || ok=0
            fi
            printf 'k%s:v%s\n' 1 1 2 2 3 3 | kcat -P -b "127.0.0.1:$port" -t cds-train -K: >/dev/null 2>&1 || true
            kcat -C -b "127.0.0.1:$port" -t cds-train -o beginning -e -q >/dev/null 2>&1 || true
        else
            show_log_tail "$train"
            ok=0
        fi
        terminate_broker "$train" "$pid" 60
    fi
    trap - EXIT INT TERM
    CDS_TRAINING=0
    for n in "${names[@]}"; do
        [[ -s "$KAFKA_CDS_DIR/$n.jsa.tmp" ]] || { np_warn "no $n.jsa was dumped"; ok=0; }
    done
    if ((ok)) || [[ "${NETPULSE_KAFKA_KEEP_TRAIN:-0}" == 0 ]]; then
        rm -rf "$train"
    else
        np_warn "kept the training dir $train"
    fi
    if ((ok)); then
        for n in "${names[@]}"; do
            mv -f "$KAFKA_CDS_DIR/$n.jsa.tmp" "$KAFKA_CDS_DIR/$n.jsa"
        done
        np_info "class-data-sharing archives ready (${names[*]})"
    else
        np_warn "class-data-sharing training failed; continuing without archives"
        rm -f "$KAFKA_CDS_DIR"/*.jsa
    fi
    printf '%s\n' "$key" >"$KAFKA_CDS_DIR/$COMPLETE"
}

cds_train_abort() {
    local pid
    pid="$(cat "$CDS_TRAIN_DIR/kafka.pid" 2>/dev/null || true)"
    if [[ -n "$pid" ]] && np_pid_alive "$pid"; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$CDS_TRAIN_DIR" "$KAFKA_CDS_DIR"
}

cmd_fetch() {
    mkdir -p "$KAFKA_HOME"
    exec 8>"$KAFKA_HOME/.fetch.lock"
    flock -w 600 8 || np_die "timed out waiting for another 'kafka.sh fetch'"
    # Holding the lock, any leftover temp dir is from an interrupted fetch.
    rm -rf "$KAFKA_HOME"/libs.tmp.* "$KAFKA_HOME"/tools.tmp.*
    fetch_libs
    fetch_tools
    fetch_cds
    exec 8>&-
}

ensure_fetched() {
    if ! marker_ok "$KAFKA_LIBS" "$(libs_key)" ||
        [[ "${NETPULSE_KAFKA_CDS:-1}" != 0 && ! -f "$KAFKA_CDS_DIR/$COMPLETE" ]]; then
        cmd_fetch
    fi
}

# ---------------------------------------------------------------- helpers

broker_classpath() { printf '%s\n' "$KAFKA_LIBS/*"; }
tools_classpath() {
    if [[ -f "$KAFKA_TOOLS_CLASSES/$COMPLETE" ]]; then
        printf '%s\n' "$KAFKA_LIBS/*:$KAFKA_TOOLS_CLASSES/netpulse-tools.jar"
    else
        printf '%s\n' "$KAFKA_LIBS/*"
    fi
}

# cds_opts NAME: the class-data-sharing option for archive NAME: dump it while training,
# use it when it exists, nothing otherwise.
CDS_TRAINING=0
cds_opts() {
    if [[ "$CDS_TRAINING" == 1 ]]; then
        printf '%s\n' "-XX:ArchiveClassesAtExit=$KAFKA_CDS_DIR/$1.jsa.tmp"
    elif [[ "${NETPULSE_KAFKA_CDS:-1}" != 0 && -s "$KAFKA_CDS_DIR/$1.jsa" ]]; then
        printf '%s\n' "-XX:SharedArchiveFile=$KAFKA_CDS_DIR/$1.jsa"
    fi
}

# run_tool ARCHIVE CLASS [ARGS...]: run a Kafka command-line class (or NpAdmin).
run_tool() {
    local archive="$1" cds=()
    shift
    mapfile -t cds < <(cds_opts "$archive")
    java "${TOOLS_JVM[@]}" "${cds[@]}" -cp "$(tools_classpath)" "$@"
}



broker_marker() { printf 'kafka.Kafka %s/server.properties' "$1"; }

# running_pid STATE: print the pid of this STATE_DIR's broker, if one is alive.
running_pid() {
    local st="$1" pid cmd
    if [[ -s "$st/kafka.pid" ]]; then
        pid="$(cat "$st/kafka.pid")"
        if np_pid_alive "$pid" && cmd="$(np_pid_cmdline "$pid")" && [[ "$cmd" == *"$(broker_marker "$st")"* ]]; then
            printf '%s\n' "$pid"
            return 0
        fi
    fi
    # The pid file may be gone or stale while a broker for this dir still runs.
    pid="$(np_pids_matching "$(broker_marker "$st")" | head -n 1)"
    if [[ -n "$pid" ]]; then
        [[ ! -d "$st" ]] || printf '%s\n' "$pid" >"$st/kafka.pid"
        printf '%s\n' "$pid"
        return 0
    fi
    return 1
}

answers() { kcat -b "$1" -L -m 2 >/dev/null 2>&1; }

new_cluster_id() {
    # A Kafka Uuid: 16 random bytes, URL-safe base64 without padding, not starting with '-'.
    local id
    while true; do
        id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
        [[ "$id" != -* && "$id" != AAAAAAAAAAAAAAAAAAAAA* ]] && break
    done
    printf '%s\n' "$id"
}

write_server_properties() {
    local st="$1" port="$2" cport="$3"
    cat >"$st/server.properties.tmp" <<EOF
# Generated by infra/kafka.sh on each start; edits are lost (use NETPULSE_KAFKA_CONFIG_EXTRA).
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$st/kafka-data
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=4
group.initial.rebalance.delay.ms=0
# Small machine: fewer threads, and a 16 MiB (not 128 MiB) log-cleaner buffer, which alone
# saves ~0.6 s of start-up.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=2
background.threads=4
log.cleaner.dedupe.buffer.size=16777216
# A broker killed with SIGKILL stays registered until its session times out (default 9 s), and
# its restarted successor cannot register before that: keep the session short (the controller
# is in the same process, so heartbeats do not cross a real network).
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=4000
EOF
    if [[ -n "${NETPULSE_KAFKA_CONFIG_EXTRA:-}" ]]; then
        printf '# NETPULSE_KAFKA_CONFIG_EXTRA\n%s\n' "$NETPULSE_KAFKA_CONFIG_EXTRA" >>"$st/server.properties.tmp"
    fi
    mv -f "$st/server.properties.tmp" "$st/server.properties"
}

format_storage() {
    local st="$1" cid
    [[ -f "$st/kafka-data/meta.properties" ]] && return 0
    if [[ ! -s "$st/kafka.cluster-id" ]]; then
        new_cluster_id >"$st/kafka.cluster-id"
    fi
    cid="$(cat "$st/kafka.cluster-id")"
    np_info "formatting KRaft storage in $st/kafka-data (cluster id $cid)"
    mkdir -p "$st/logs"
    # SCRAM users exist from the first metadata record on: no admin round trip, no wait for
    # the credentials to reach the broker's cache. The passwords are on StorageTool's command
    # line for its ~1 s run: for throw-away test brokers only.
    local scram=() line
    while IFS= read -r line; do
        [[ -z "$line" ]] || scram+=(--add-scram "$line")
    done <<<"${NETPULSE_KAFKA_SCRAM:-}"
    if ! run_tool tools kafka.tools.StorageTool format -t "$cid" -c "$st/server.properties" \
        --ignore-formatted "${scram[@]}" >"$st/logs/format.log" 2>&1; then
        cat "$st/logs/format.log" >&2
        np_warn "StorageTool format failed"
        return 1
    fi
}

# launch_broker STATE: start the JVM in its own session; it writes STATE/kafka.pid.
launch_broker() {
    local st="$1" opts cds=()
    mapfile -t cds < <(cds_opts broker)
    opts=(-Xmx"${NETPULSE_KAFKA_HEAP:-512m}" -Xms64m "${JVM_COMMON[@]}" "${cds[@]}"
        "-Dkafka.logs.dir=$st/logs" "-Dlog4j2.configurationFile=$KAFKA_CONF_DIR/log4j2.properties")
    if [[ -n "${NETPULSE_KAFKA_JAVA_OPTS:-}" ]]; then
        local more
        read -r -a more <<<"$NETPULSE_KAFKA_JAVA_OPTS"
        opts+=("${more[@]}")
    fi
    rm -f "$st/kafka.pid"
    mkdir -p "$st/logs"
    # The inner shell records its own pid and execs java, so kafka.pid is the JVM's pid, which
    # is also its process-group and session id (setsid), whatever the caller's job control.
    # fds 8 and 9 hold kafka.sh's flocks: the broker must not inherit them.
    # shellcheck disable=SC2016
    setsid -f bash -c 'printf "%s\n" "$$" >"$1.tmp" && mv -f "$1.tmp" "$1" && shift && exec "$@"' \
        np-kafka "$st/kafka.pid" java "${opts[@]}" -cp "$(broker_classpath)" kafka.Kafka "$st/server.properties" \
        >>"$st/logs/kafka.out" 2>&1 </dev/null 8>&- 9>&-
    np_wait_for -t 10 -i 0.02 -m "$st/kafka.pid" test -s "$st/kafka.pid" || np_die "broker did not start"
}

# wait_ready STATE PID TIMEOUT: wait until the broker answers metadata requests.
wait_ready() {
    local st="$1" pid="$2" timeout="$3" port start now
    port="$(cat "$st/kafka.port" 2>/dev/null || true)"
    [[ -n "$port" ]] || { np_warn "no $st/kafka.port"; return 1; }
    start="$(date +%s)"
    while true; do
        if ! np_pid_alive "$pid"; then
            np_warn "broker (pid $pid) exited during start-up"
            return 1
        fi
        if np_port_in_use "$port" && answers "127.0.0.1:$port"; then
            return 0
        fi
        now="$(date +%s)"
        if ((now - start >= timeout)); then
            np_warn "broker did not answer on 127.0.0.1:$port within ${timeout}s"
            return 1
        fi
        sleep 0.1
    done
}

# terminate_broker STATE PID TIMEOUT: SIGTERM, then SIGKILL the whole process group.
terminate_broker() {
    local st="$1" pid="$2" timeout="$3" pgid
    pgid="$(awk '{print $5}' "/proc/$pid/stat" 2>/dev/null || true)"
    kill -TERM "$pid" 2>/dev/null || true
    if ! np_wait_for -q -t "$timeout" -i 0.1 np_pid_gone "$pid"; then
        np_warn "broker pid $pid ignored SIGTERM for ${timeout}s; sending SIGKILL"
        if [[ "$pgid" == "$pid" ]]; then
            kill -KILL -- "-$pgid" 2>/dev/null || true
        fi
        kill -KILL "$pid" 2>/dev/null || true
        np_wait_for -t 10 -i 0.1 np_pid_gone "$pid" || np_warn "pid $pid still alive"
    fi
    rm -f "$st/kafka.pid"
}

show_log_tail() {
    local st="$1"
    {
        echo "----- tail of $st/logs/server.log -----"
        tail -n "${2:-40}" "$st/logs/server.log" 2>/dev/null || true
        echo "----- tail of $st/logs/kafka.out -----"
        tail -n 20 "$st/logs/kafka.out" 2>/dev/null || true
        echo "-----"
    } >&2
}

# ---------------------------------------------------------------- commands

cmd_start() {
    np_state_dir_arg "$@"
    np_lock_state kafka-sh 120
    ensure_fetched
    local pid port cport t0 timeout="${NETPULSE_KAFKA_START_TIMEOUT:-60}"
    if pid="$(running_pid "$STATE")"; then
        if [[ -s "$STATE/bootstrap" ]] && answers "$(cat "$STATE/bootstrap")"; then
            np_info "already running (pid $pid) at $(cat "$STATE/bootstrap")"
            cat "$STATE/bootstrap"
            return 0
        fi
        np_info "broker pid $pid is alive but not answering yet; waiting"
        if wait_ready "$STATE" "$pid" "$timeout"; then
            printf '127.0.0.1:%s\n' "$(cat "$STATE/kafka.port")" >"$STATE/bootstrap"
            cat "$STATE/bootstrap"
            return 0
        fi
        show_log_tail "$STATE"
        np_die "broker pid $pid in $STATE does not answer (stop it with: $0 stop $STATE)"
    fi
    # Nothing alive: any pid file is stale. Kafka's own log.dirs/.lock is an OS file lock, so a
    # killed broker leaves nothing that blocks a restart; the data is kept.
    rm -f "$STATE/kafka.pid" "$STATE/bootstrap"

    # Ports: the environment, else the ones this STATE_DIR used before, else free ones.
    port="${NETPULSE_KAFKA_PORT:-}"
    [[ -n "$port" ]] || port="$(cat "$STATE/kafka.port" 2>/dev/null || true)"
    cport="${NETPULSE_KAFKA_CONTROLLER_PORT:-}"
    [[ -n "$cport" ]] || cport="$(cat "$STATE/kafka.controller.port" 2>/dev/null || true)"
    if [[ -z "$port" || -z "$cport" || "$port" == "$cport" ]]; then
        local free1 free2
        { read -r free1; read -r free2; } < <(np_free_port 2)
        [[ -n "$port" ]] || port="$free1"
        [[ -n "$cport" && "$cport" != "$port" ]] || cport="$free2"
        [[ "$cport" != "$port" ]] || cport="$free1"
    fi
    [[ "$port" =~ ^[0-9]+$ && "$cport" =~ ^[0-9]+$ ]] || np_die "bad ports: broker '$port' controller '$cport'"
    np_port_in_use "$port" && np_die "broker port $port (kept in $STATE/kafka.port) is in use by another process"
    np_port_in_use "$cport" && np_die "controller port $cport (kept in $STATE/kafka.controller.port) is in use by another process"
    printf '%s\n' "$port" >"$STATE/kafka.port"
    printf '%s\n' "$cport" >"$STATE/kafka.controller.port"

    mkdir -p "$STATE/logs" "$STATE/kafka-data"
    write_server_properties "$STATE" "$port" "$cport"
    t0="$(date +%s%N)"
    format_storage "$STATE" || np_die "cannot format $STATE/kafka-data"
    launch_broker "$STATE"
    pid="$(cat "$STATE/kafka.pid")"
    if ! wait_ready "$STATE" "$pid" "$timeout"; then
        show_log_tail "$STATE" 60
        terminate_broker "$STATE" "$pid" 5
        np_die "Kafka failed to start in $STATE"
    fi
    printf '127.0.0.1:%s\n' "$port" >"$STATE/bootstrap"
    np_info "Kafka $KAFKA_VERSION up at 127.0.0.1:$port (pid $pid, $(np_ms_since "$t0") ms)"
    cat "$STATE/bootstrap"
}

cmd_stop() {
    np_state_dir_arg "$@"
    local pid t0
    # Even without STATE_DIR (deleted under a running broker) a broker may still run for it.
    [[ -d "$STATE" ]] && np_lock_state kafka-sh 120
    if ! pid="$(running_pid "$STATE" 2>/dev/null)"; then
        rm -f "$STATE/kafka.pid"
        np_info "not running ($STATE)"
        return 0
    fi
    t0="$(date +%s%N)"
    terminate_broker "$STATE" "$pid" "${NETPULSE_KAFKA_STOP_TIMEOUT:-20}"
    np_info "stopped broker pid $pid ($(np_ms_since "$t0") ms)"
}

cmd_status() {
    np_state_dir_arg "$@"
    local pid
    if ! pid="$(running_pid "$STATE")"; then
        np_info "not running ($STATE)"
        return 1
    fi
    if [[ -s "$STATE/bootstrap" ]] && answers "$(cat "$STATE/bootstrap")"; then
        np_info "running (pid $pid) at $(cat "$STATE/bootstrap")"
        return 0
    fi
    np_info "pid $pid is alive but does not answer"
    return 1
}

cmd_bootstrap() {
    np_state_dir_arg "$@"
    [[ -s "$STATE/bootstrap" ]] || np_die "no bootstrap address in $STATE (not started?)"
    cat "$STATE/bootstrap"
}

cmd_logs() {
    np_state_dir_arg "$@"
    tail -n "${NETPULSE_LOG_LINES:-100}" "$STATE/logs/server.log"
}

# topics_ready BOOTSTRAP NAME:N...: every topic exists with N partitions, all with a leader.
topics_ready() {
    local boot="$1" meta spec name n
    shift
    meta="$(kcat -b "$boot" -L -m 5 2>&1)" || return 1
    for spec in "$@"; do
        name="${spec%%:*}"
        n="${spec##*:}"
        grep -qF "topic \"$name\" with $n partitions:" <<<"$meta" || return 1
    done
    ! grep -qE 'leader -1|Leader not available' <<<"$meta"
}

cmd_create_topics() {
    np_state_dir_arg "$@"
    ensure_fetched
    local boot t0 specs
    boot="$(cmd_bootstrap "$STATE")"
    answers "$boot" || np_die "Kafka in $STATE does not answer at $boot (start it first)"
    specs=("network-traffic:${NETPULSE_PARTITIONS:-12}"
        "processed-data:${NETPULSE_OUTPUT_PARTITIONS:-1}"
        "network-traffic-dlq:1"
        "network-traffic-repartition:${NETPULSE_PARTITIONS:-12}"
        "network-connections:${NETPULSE_CONNECTIONS_PARTITIONS:-4}")
    t0="$(date +%s%N)"
    if [[ -f "$KAFKA_TOOLS_CLASSES/$COMPLETE" ]]; then
        local out
        out="$(run_tool admin NpAdmin create "$boot" "${specs[@]}")" ||
            np_die "creating topics failed"
        while read -r line; do np_info "topic $line"; done <<<"$out"
    else
        # Fallback: Kafka's TopicCommand, one JVM per topic, launched in parallel.
        local spec pids=() rc=0 p
        for spec in "${specs[@]}"; do
            run_tool tools org.apache.kafka.tools.TopicCommand --bootstrap-server "$boot" --create \
                --if-not-exists --topic "${spec%%:*}" --partitions "${spec##*:}" --replication-factor 1 >&2 &
            pids+=("$!")
        done
        for p in "${pids[@]}"; do wait "$p" || rc=1; done
        ((rc == 0)) || np_die "creating topics failed"
    fi
    np_wait_for -t 30 -i 0.1 -m "topics to have leaders" topics_ready "$boot" "${specs[@]}" ||
        { kcat -b "$boot" -L >&2 || true; np_die "topics not ready: ${specs[*]}"; }
    np_info "topics ready (${specs[*]}) in $(np_ms_since "$t0") ms"
}

main() {
    [[ $# -ge 1 ]] || usage
    local cmd="$1"
    shift
    case "$cmd" in
        fetch) cmd_fetch ;;
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        status) cmd_status "$@" ;;
        create-topics) cmd_create_topics "$@" ;;
        bootstrap) cmd_bootstrap "$@" ;;
        logs) cmd_logs "$@" ;;
        -h | --help | help) usage ;;
        *) np_warn "unknown command: $cmd"; usage ;;
    esac
}

main "$@"
