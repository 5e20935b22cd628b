#!/usr/bin/env bash
# 0003-shutdown-bound: SIGTERM stops a process in bounded time even when its clean stop
# waits on a peer that is gone. The generator here produces to a broker port nobody listens
# on; its clean stop flushes to that broker, which librdkafka would wait out for
# message.timeout.ms (5 minutes). With shutdown.timeout.ms it must exit within the bound, with
# status 1 and a shutdown_timeout log line; the same process, stopped while it has nothing
# to wait for (--count reached), exits 0 as before. No Kafka or Redis is started.
source "$(dirname "$0")/lib.sh"
it_setup 0003-shutdown-bound

DEAD="127.0.0.1:$(np_free_port)"
it_start gen "$IT_BIN/netpulse-generator" --brokers "$DEAD" --rate 200 --count 1000000 --shutdown-timeout-ms 1500
it_check "generator is producing (to nowhere)" np_wait_for -q -t 10 -i 0.2 it_alive gen
sleep 1
t0=$(date +%s%N)
it_stop gen TERM
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
np_info "generator stopped in $ms ms with status $rc"
it_check "SIGTERM with an unreachable broker: exit within 1.5 s + 2 s (took $ms ms)" test "$ms" -lt 3500
it_check "  ... with status 1" test "$rc" -eq 1
it_check "  ... and a shutdown_timeout log line" grep -q 'event=shutdown_timeout timeout_ms=1500' "$IT_DIR/gen.log"

# --help documents it in every process.
for p in worker coordinator gateway generator ingest detect; do
    it_check "netpulse-$p --help names shutdown.timeout.ms" \
        bash -c "'$IT_BIN/netpulse-$p' --help | grep -q -- '--shutdown-timeout-ms'"
done
it_finish
