#!/usr/bin/env bash
# Sink benchmark: the whole pipeline (file source -> RCF per key -> one sink) for each sink type.
# Reports records/s (records / wall time of the run, rcfd start to exit) and the p50/p99 latency
# from a record being queued on the output to the sink accepting it (rcfd's own histogram,
# logged when it exits).
#
#   bench/sinks.sh BUILD_DIR [RECORDS]      e.g. bench/sinks.sh build-sk 50000
#
# file: JSONL appended with uv_fs_write. kafka: librdkafka's mock cluster in a separate process
# (tests/support/mock_cluster.c, 3 brokers, loopback), idempotent producer, acks=all, linger 5 ms.
# webhook: Python's ThreadingHTTPServer on 127.0.0.1 (tests/integration/sk_http.py), batches of
# 100 records (batch_max_delay_ms 5).
set -euo pipefail
B=${1:?build dir}
N=${2:-50000}
SRC=$(cd "$(dirname "$0")/.." && pwd)
RCFD=$(realpath "$B/bin/rcfd")
MOCK=$(realpath "$B/tests/rcfd_mock_cluster")
W=$(mktemp -d /tmp/rcfd-bench-sinks.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$W"' EXIT
cd "$W"
python3 - "$N" <<'PY'
import json, math, random, sys
rnd = random.Random(1)
with open("in.jsonl", "w") as f:
    for i in range(int(sys.argv[1])):
        f.write(json.dumps({"k": "k%02d" % (i % 16), "seq": i, "ts": i * 200,
                            "a": round(math.sin(i / 40) + rnd.gauss(0, 0.1), 4),
                            "b": round(rnd.gauss(5, 1), 4)}) + "\n")
PY
# PACE=1: replay at 5000 records/s (timestamps 200 us apart) instead of as fast as possible.
conf() { # OUTPUT-JSON
    local pace=""
    [ -n "${PACE:-}" ] && pace=', "timestamp_field": "ts", "timestamp_unit": "us", "replay_speed": 1'
    cat > c.json <<JSON
{"log": {"level": "info"}, "runtime": {"stats_interval_ms": 0},
 "sources": [{"name": "s", "type": "file", "path": "in.jsonl" $pace}],
 "outputs": [$1],
 "pipelines": [{"name": "p", "source": "s", "fields": ["a", "b"], "key": "k", "outputs": ["o"],
                "models": [{"type": "rcf", "number_of_trees": 50, "sub_sample_size": 256}]}]}
JSON
}
run() { # NAME
    local t0 t1
    t0=$(date +%s.%N)
    "$RCFD" -c c.json 2> "$1.log"
    t1=$(date +%s.%N)
    local lat
    lat=$(grep -o 'latency p50 [0-9.]* ms p99 [0-9.]* ms' "$1.log" | tail -n1)
    printf '| %-28s | %9.0f | %s |\n' "$1" "$(echo "$N / ($t1 - $t0)" | bc -l)" "$lat"
}
all_sinks() {
echo "| sink | records/s | queued -> accepted |"
echo "|---|---|---|"
conf '{"name": "o", "type": "file", "path": "out.jsonl"}'
run "file (JSONL)"
conf '{"name": "o", "type": "file", "path": "out-sync.jsonl", "fsync": "batch"}'
run "file (JSONL, fsync batch)"

[ -n "${BOOT:-}" ] || { "$MOCK" --brokers 3 out:4 > mock.out 2> mock.log &
PIDS+=($!)
for _ in $(seq 100); do [ -s mock.out ] && break; sleep 0.05; done
BOOT=$(head -n1 mock.out); }
conf "{\"name\": \"o\", \"type\": \"kafka\", \"topic\": \"out\", \"rdkafka\": {\"bootstrap.servers\": \"$BOOT\", \"linger.ms\": \"5\"}}"
run "kafka (mock cluster)"

if [ ! -s port ]; then
python3 "$SRC/tests/integration/sk_http.py" port . > http.out 2> http.log &
PIDS+=($!)
for _ in $(seq 100); do grep -q listening http.out 2>/dev/null && break; sleep 0.05; done
fi
conf "{\"name\": \"o\", \"type\": \"webhook\", \"url\": \"http://127.0.0.1:$(cat port)/\", \"batch_max_records\": 100, \"batch_max_delay_ms\": 5}"
run "webhook (batches of 100)"
}
echo "As fast as possible (saturated: latency includes queueing up to runtime.max_inflight):"
all_sinks
echo
echo "Paced at 5000 records/s:"
PACE=1 all_sinks
