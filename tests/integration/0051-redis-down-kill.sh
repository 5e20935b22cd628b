#!/usr/bin/env bash
# 0051-redis-down-kill: Redis stops before the data starts, so no partition's checkpoint
# holds an offset (its only head is the one written at assignment, with nothing consumed)
# and the coordinator acknowledges nothing (it cannot store partials). Panes close and
# their partials wait in the worker's outbox while the worker commits offsets to Kafka;
# then the worker is killed with -9, Redis comes back, and the restarted worker resumes
# every partition from the group's committed offsets.
#
# The committed offsets must not pass a record of a pane the coordinator never
# acknowledged (np_slots_commit_offset, ARCHITECTURE.md "Committed offsets"): before, they
# stopped only at open panes, so the closed panes' records were never read again and the
# windows missed them. The results must be exactly the oracle's, with no duplicate id.
source "$(dirname "$0")/lib.sh"
it_setup 0051-redis-down-kill
export NETPULSE_PARTITIONS=4
it_start_infra 4 || exit 1
it_start_cluster 1 --idle-ms 3000 --checkpoint-ms 500 -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 || exit 1

heads() { test "$(it_redis_count 'netpulse:ckpt:*network-traffic/*}')" -eq 4; }
it_check "4 checkpoint heads (nothing consumed yet) before the outage" np_wait_for -t 10 -i 0.5 heads

np_info "stopping redis"
"$IT_ROOT/infra/redis.sh" stop "$IT_DIR/redis" >>"$IT_DIR/redis-start.log" 2>&1
it_check "redis is down" bash -c "! redis-cli -h 127.0.0.1 -p $REDIS_PORT ping >/dev/null 2>&1"

T0=$(it_t0)
# ~20 s of wall time at 2000 records/s (event time runs at wall speed).
it_start generator "$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 2000 --count 40000 --speedup 1 \
    --seed 52 --sources 1000 --start-ms "$T0"

# Long enough for two panes of every partition to close (5 s panes, 2 s lateness) and for
# librdkafka's auto-commit (every 5 s) to send what the worker stored after that.
closed() { test "$(it_metric worker1 netpulse_worker_partials_sent_total)" -ge 8; }
it_check "panes closed and their partials sent during the outage" np_wait_for -t 20 -i 0.5 closed
sleep 7
it_check "nothing acknowledged during the outage" test "$(it_metric worker1 netpulse_worker_partials_acked_total)" -eq 0
it_check "no process exited during the outage" it_alive gateway coordinator worker1 generator

np_info "kill -9 worker1 with $(it_metric worker1 netpulse_worker_outbox_partials) partials unacknowledged"
it_stop worker1 KILL
np_info "starting redis again"
"$IT_ROOT/infra/redis.sh" start "$IT_DIR/redis" >>"$IT_DIR/redis-start.log" 2>&1
it_check "redis is back" bash -c "redis-cli -h 127.0.0.1 -p $REDIS_PORT ping >/dev/null 2>&1"
it_restart_worker worker1

it_check "generator delivered everything" it_wait_exit generator 90
it_check "windows published through the end of the data" it_wait_windows_through $((T0 + 20000))
it_check "windows equal the oracle's, no duplicates, nothing lost" it_oracle
it_check "no process but the killed worker exited" it_alive gateway coordinator worker1
it_finish
