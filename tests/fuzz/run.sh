#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS] [TARGET...]: builds the libFuzzer targets (clang, -DNP_FUZZ=ON,
# ASan + UBSan) in build-fuzz/ and runs each for SECONDS (default 5; .ci/run uses 5, a long
# run is e.g. `tests/fuzz/run.sh 3600`). Corpora persist in build-fuzz/corpus/<target>, so
# long runs build on earlier ones; text seeds come from tests/fuzz/seeds/. Crashes are
# written to build-fuzz/crash/<target>/ and fail the script. Prints one line per target:
# executions, corpus size, result.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-5}"
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(record summary worker_msg wmsg ckpt detect_state hll vhll view config nf9 sflow kdd_conn kdd_model)
B=build-fuzz
if [[ ! -f $B/CMakeCache.txt ]]; then
    CC=clang cmake -S . -B $B -G "$(command -v ninja >/dev/null && echo Ninja || echo 'Unix Makefiles')" \
        -DNP_FUZZ=ON -DNP_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build $B -j "$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null
failed=0
for t in "${targets[@]}"; do
    mkdir -p "$B/corpus/$t" "$B/crash/$t"
    seeds=()
    [[ -d tests/fuzz/seeds/$t ]] && seeds=("tests/fuzz/seeds/$t")
    log="$B/fuzz_$t.log"
    if "$B/fuzz_$t" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$B/crash/$t/" -print_final_stats=1 "$B/corpus/$t" "${seeds[@]}" >"$log" 2>&1; then
        res=ok
    else
        res="FAILED (see $log and $B/crash/$t/)"
        failed=1
    fi
    execs="$(awk '/stat::number_of_executed_units/ {print $2}' "$log")"
    echo "fuzz_$t: ${execs:-0} executions in ${secs} s, corpus $(ls "$B/corpus/$t" | wc -l), $res"
done
exit $failed
