#!/usr/bin/env bash
# A record a sink permanently refuses goes to the dead-letter output, never nowhere. (1) The
# producer's own limit: message.max.bytes 20000 with every 50th record 30 kB large: librdkafka
# refuses them locally (MSG_SIZE_TOO_LARGE). (2) The broker's answer: the mock cluster answers
# ProduceRequests with MSG_SIZE_TOO_LARGE (error 10) once the input is in. The Kafka output has no
# dead_letter of its own: its refusals go to the pipeline's. Every input offset must be in the
# Kafka output or the dead letters (lost 0), and the dead letters must stay small.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

scenario() { # NAME MOCK_OPTS PRODUCER_JSON ARM
    local name=$1 opts=$2 producer=$3 arm=$4
    "$MOCK_CLUSTER" --brokers 3 $opts in:2 scored:3 > "$name.mock" 2> "$name.mock.log" &
    local mock=$!
    PIDS+=($mock)
    for _ in $(seq 100); do [ -s "$name.mock" ] && break; sleep 0.05; done
    BOOT=$(head -n1 "$name.mock")
    $C gen 3000 20 7 "$name.tsv" 50 30000
    produce in "$name.tsv"
    inputs in "$name.in.txt"
    cat > "$name.json" <<JSON
{"runtime": {"stats_interval_ms": 0, "shutdown_timeout_ms": 5000},
 "sources": [{"name": "in", "type": "kafka", "topics": ["in"],
              "rdkafka": {"bootstrap.servers": "$BOOT", "group.id": "refuse",
                          "auto.offset.reset": "earliest", "auto.commit.interval.ms": 100}}],
 "outputs": [{"name": "kafka", "type": "kafka", "topic": "scored",
              "rdkafka": {"bootstrap.servers": "$BOOT", "linger.ms": "5" $producer}},
             {"name": "dlq", "type": "file", "path": "$name.dead.jsonl"}],
 "pipelines": [{"name": "p", "source": "in", "fields": ["v", "w"], "key": "key",
                "outputs": ["kafka"], "dead_letter": "dlq",
                "models": [{"type": "rcf", "number_of_trees": 10, "sub_sample_size": 32}]}]}
JSON
    start_rcfd "$name" -c "$name.json"
    [ "$arm" = 1 ] && kill -USR1 "$mock"
    refresh() { consume scored "$name.scored.tsv"; }
    local args=(--inputs "$name.in.txt" --out "kafka=$name.scored.tsv" --dead "$name.dead.jsonl")
    covered 60 "${args[@]}"
    stop_rcfd TERM
    [ "$RCFD_RC" -eq 0 ] || fail "$name: exit code $RCFD_RC"
    consume scored "$name.scored.tsv"
    $C count "${args[@]}"
    grep -q MSG_SIZE_TOO_LARGE "$name.dead.jsonl" || fail "$name: nothing was refused"
    python3 - "$name.dead.jsonl" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    assert d["output"] == "kafka" and ("origin" in d or "_rcfd" in d["record"]), d
    assert len(l) < 70000
PY
    kill "$mock"
}
scenario local "" ', "message.max.bytes": "20000"' 0
scenario broker "--fail-produce-on-usr1 10:4" "" 1
echo "ch_sink_refuse: refused records dead-lettered, nothing lost"
