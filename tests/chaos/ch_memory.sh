#!/usr/bin/env bash
# Memory stays bounded with many keys. 6,000 keys over 30,000 records (each key comes back about
# five times, in random order) into a pipeline with memory_limit 16 MB, max_keys far above, and a
# state directory: live models and kept snapshots stay under the budget, the rest is spilled to
# the directory and read back when its key returns. The daemon is killed (-9) halfway and
# restarted: checkpoints name the spilled keys, which are read back again. Asserted: every record
# scored (lost 0), RSS below budget + a fixed overhead (an unbounded run of this stream takes
# several hundred MB), spills and read-backs counted, none failed, no key restarted cold.
# shingle_size 1: every key has its forest from its first record (with "auto" a key of five
# records would still be holding them, and the budget would be exercised far less).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=$((30000 / TIME_MULT))
KEYS=$((6000 / TIME_MULT))
LIMIT=$((16 << 20))
start_mock in:2
python3 - "$N" "$KEYS" <<'PY'
import json, random, sys
n, keys = int(sys.argv[1]), int(sys.argv[2])
r = random.Random(3)
with open("in.tsv", "w") as f:
    for i in range(n):
        k = "k%d" % r.randrange(keys)
        f.write(k + "\t" + json.dumps({"key": k, "seq": i, "v": r.random()},
                                      separators=(",", ":")) + "\n")
PY
head -n $((N / 2)) in.tsv > a.tsv
tail -n +$((N / 2 + 1)) in.tsv > b.tsv
produce in a.tsv
cat > m.json <<JSON
{"runtime": {"stats_interval_ms": 500, "admin_listen": "127.0.0.1:0"},
 "state": {"dir": "st", "interval_ms": 500},
 "sources": [{"name": "in", "type": "kafka", "topics": ["in"],
              "rdkafka": {"bootstrap.servers": "$BOOT", "group.id": "chaos-memory",
                          "auto.offset.reset": "earliest", "auto.commit.interval.ms": 100,
                          "session.timeout.ms": 4000, "heartbeat.interval.ms": 500}}],
 "outputs": [{"name": "out", "type": "file", "path": "out.jsonl"}],
 "pipelines": [{"name": "p", "source": "in", "fields": ["v"], "key": "key", "max_keys": 1000000,
                "memory_limit": $LIMIT, "outputs": ["out"],
                "models": [{"type": "rcf", "shingle_size": 1, "number_of_trees": 20,
                            "sub_sample_size": 64}]}]}
JSON
maxrss=0
watch_rss() { # SECONDS CONDITION...: samples RSS until the condition holds
    local deadline=$(( $(date +%s) + $1 * TIME_MULT )); shift
    until "$@"; do
        local r
        r=$(rss_kb "$RCFD_PID" 2>/dev/null || echo 0)
        [ "$r" -gt "$maxrss" ] && maxrss=$r
        [ "$(date +%s)" -lt "$deadline" ] || fail "timed out"
        sleep 0.2
    done
}
half() { [ "$(lines out.jsonl)" -ge $((N / 3)) ]; }
start_rcfd m1 -c m.json
watch_rss 120 half
stop_rcfd KILL
produce in b.tsv
inputs in in.txt
all_out() { $C count --quiet --inputs in.txt --out out=out.jsonl; }
start_rcfd m2 -c m.json
wait_log m2.log "admin listener on" 30
PORT=$(sed -n 's/.*admin listener on 127.0.0.1:\([0-9]*\).*/\1/p' m2.log | head -1)
watch_rss 300 all_out
metric() { curl -s "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 ~ "^"m"({|$)" {s += $2} END {print s + 0}'; }
spills=$(metric rcfd_models_spills_total)
reads=$(metric rcfd_models_spill_reads_total)
failed=$(metric rcfd_models_spill_failed_total)
dropped=$(metric rcfd_models_dropped_total)
bytes=$(metric rcfd_models_bytes)
kept=$(metric rcfd_models_kept_bytes)
live=$(metric rcfd_models)
stop_rcfd TERM
[ "$RCFD_RC" -eq 0 ] || fail "exit code $RCFD_RC"
$C count --inputs in.txt --out out=out.jsonl
echo "ch_memory: max RSS $maxrss kB; after the restart: $spills spills, $reads read back, $failed failed, $dropped dropped; $live live keys, $bytes bytes live, $kept kept"
restored=$(sed -n 's/.*restored \([0-9]*\) keys at offset.*/\1/p' m2.log | awk '{s += $1} END {print s + 0}')
[ "$restored" -gt 0 ] || fail "the restart restored no keys"
[ "$spills" -gt 0 ] && [ "$reads" -gt 0 ] || fail "nothing was spilled or read back"
[ "$failed" -eq 0 ] && [ "$dropped" -eq 0 ] || fail "keys restarted cold: $failed failed, $dropped dropped"
[ $((bytes + kept)) -le $((LIMIT + (LIMIT >> 2))) ] || fail "models hold $((bytes + kept)) bytes, budget $LIMIT"
# The budget plus the daemon's own (librdkafka, buffers). Under the sanitizers (TIME_MULT > 1)
# RSS says little (AddressSanitizer's quarantine alone holds up to 256 MB of freed memory): the
# models' own accounting above is the bound there.
if [ "$TIME_MULT" -eq 1 ]; then
    [ "$maxrss" -lt $(( (LIMIT >> 10) + 64 * 1024 )) ] || fail "RSS reached $maxrss kB"
fi
