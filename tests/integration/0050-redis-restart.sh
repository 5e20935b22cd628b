#!/usr/bin/env bash
# 0050-redis-restart: Redis (AOF persistence on) stops mid-stream and comes back on the same
# port with its data; afterwards a worker is killed with -9, so its partitions are restored
# from checkpoints and fencing epochs that lived through the Redis restart.
#
# During the outage checkpoints fail (counted, retried) and nothing exits; after it, the
# checkpoint and epoch keys are there again with the epochs they had, and the results are
# exactly those of a run without failures (oracle), with no duplicate id.
source "$(dirname "$0")/lib.sh"
it_setup 0050-redis-restart
it_start_infra 12 || exit 1
it_start_cluster 2 --idle-ms 3000 --checkpoint-ms 500 -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 || exit 1

T0=$(it_t0)
# ~30 s of wall time at 4000 records/s (event time runs at wall speed).
it_start generator "$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 4000 --count 120000 --speedup 1 \
    --seed 51 --sources 3000 --start-ms "$T0"

sleep 6
# Fencing epochs before the outage: one key per partition, "netpulse:epoch:{group/topic/p}".
# Checkpoint heads are "netpulse:ckpt:{group/topic/p}" (their parts add ":pane:START" etc.).
epochs() { it_redis --scan --pattern 'netpulse:epoch:*' | sort | while read -r k; do echo "$k $(it_redis get "$k" </dev/null)"; done; }
epochs >"$IT_DIR/epochs-before.txt"
it_check "12 checkpoints in Redis before the outage" test "$(it_redis_count 'netpulse:ckpt:*network-traffic/*}')" -eq 12
err0="$(it_metric_sum netpulse_worker_checkpoint_errors_total worker1 worker2)"
port0="$REDIS_PORT"

np_info "stopping redis"
"$IT_ROOT/infra/redis.sh" stop "$IT_DIR/redis" >>"$IT_DIR/redis-start.log" 2>&1
it_check "redis is down" bash -c "! redis-cli -h 127.0.0.1 -p $REDIS_PORT ping >/dev/null 2>&1"
errors_rose() { test "$(it_metric_sum netpulse_worker_checkpoint_errors_total worker1 worker2)" -gt "$err0"; }
it_check "checkpoint errors counted during the outage" np_wait_for -t 10 -i 0.5 errors_rose
sleep 5   # longer than a pane: every partition closes a pane while Redis is away
err1="$(it_metric_sum netpulse_worker_checkpoint_errors_total worker1 worker2)"
np_info "checkpoint errors: $err0 before the outage, $err1 during it"
it_check "no process exited during the outage" it_alive gateway coordinator worker1 worker2 generator

np_info "starting redis again"
"$IT_ROOT/infra/redis.sh" start "$IT_DIR/redis" >>"$IT_DIR/redis-start.log" 2>&1
it_check "redis came back on the same port" test "$("$IT_ROOT/infra/redis.sh" port "$IT_DIR/redis")" = "$port0"
it_check "checkpoints survived the restart" test "$(it_redis_count 'netpulse:ckpt:*network-traffic/*}')" -eq 12
epochs >"$IT_DIR/epochs-after.txt"
it_check "fencing epochs survived the restart unchanged" cmp -s "$IT_DIR/epochs-before.txt" "$IT_DIR/epochs-after.txt"
ckpt1="$(it_metric_sum netpulse_worker_checkpoints_total worker1 worker2)"
ckpts_resumed() { test "$(it_metric_sum netpulse_worker_checkpoints_total worker1 worker2)" -gt "$ckpt1"; }
it_check "checkpoints are written again" np_wait_for -t 10 -i 0.5 ckpts_resumed
sleep 2
it_check "no process exited after the outage" it_alive gateway coordinator worker1 worker2 generator

# Now a crash whose recovery needs what Redis kept.
w1_parts="$(it_metric worker1 netpulse_worker_assigned_partitions)"
np_info "kill -9 worker1 (owns $w1_parts partitions)"
it_stop worker1 KILL
sleep 1
it_restart_worker worker1

it_check "generator delivered everything" it_wait_exit generator 90
it_check "windows published through the end of the data" it_wait_windows_through $((T0 + 30000))
it_check "windows equal the oracle's, no duplicates, nothing lost" it_oracle
restored="$(it_metric_sum netpulse_worker_partitions_restored_total worker1 worker2)"
np_info "partitions restored from checkpoints: $restored"
it_check "the killed worker's partitions were restored from checkpoints" test "${restored:-0}" -ge "${w1_parts:-1}"
# Each restore takes a new epoch with INCR on the key that survived the restart, so it is
# above the epoch its checkpoint was written under (a lost key would restart at 1).
epochs_increase() {
    grep -h 'event=partition_restored' "$IT_DIR"/worker*.log | awk '
        { for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } n++
          if (f["epoch"] + 0 <= f["previous_epoch"] + 0) { print "epoch not increased: " $0; bad = 1 } }
        END { exit bad || n == 0 }'
}
it_check "every restore took an epoch above its checkpoint's" epochs_increase
it_check "12 checkpoints in Redis at the end" test "$(it_redis_count 'netpulse:ckpt:*network-traffic/*}')" -eq 12
it_check "no process but the killed worker exited" it_alive gateway coordinator worker1 worker2
it_finish
