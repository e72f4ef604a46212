#!/usr/bin/env bash
# Damaged or foreign state must never skip records. A run over a 2-partition topic leaves
# checkpoints in a state directory; then, before each restart, they are (a) swapped between the
# partitions (latest and previous), (b) forged: a valid checksum around an offset far past the
# partition's end, (c) replaced by a sparse 4 GB file, and (d) taken to another cluster whose
# topic is shorter. Each time the daemon must refuse them (logged), replay from the committed
# offset, and write every new record: the union of the outputs holds every input offset (lost
# 0), and the sparse file must not be read into memory.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
start_mock in:2
config() { # NAME BOOT
cat > "$1.json" <<JSON
{"runtime": {"stats_interval_ms": 0},
 "state": {"dir": "st", "interval_ms": 300},
 "sources": [{"name": "in", "type": "kafka", "topics": ["in"],
              "rdkafka": {"bootstrap.servers": "$2", "group.id": "chaos-state",
                          "auto.offset.reset": "earliest", "auto.commit.interval.ms": 100,
                          "session.timeout.ms": 4000, "heartbeat.interval.ms": 500}}],
 "outputs": [{"name": "out", "type": "file", "path": "$1.out.jsonl"}],
 "pipelines": [{"name": "p", "source": "in", "fields": ["v", "w"], "key": "key",
                "outputs": ["out"],
                "models": [{"type": "rcf", "number_of_trees": 10, "sub_sample_size": 32}]}]}
JSON
}
seqs=0
batch() { # produce N more numbered records to BOOT
    python3 "$SRC_DIR/tests/chaos/chaos.py" gen "$1" 30 "$seqs" b.tsv
    produce in b.tsv
    seqs=$((seqs + 1))
}
phase() { # NAME: run until every input offset so far is out, then SIGTERM
    local name=$1
    config "$name" "$BOOT"
    inputs in in.txt
    start_rcfd "$name" -c "$name.json"
    local maxrss=0 deadline=$(( $(date +%s) + 60 * TIME_MULT ))
    until cat ./*.out.jsonl > all.jsonl 2>/dev/null; $C count --quiet --inputs in.txt --out all=all.jsonl; do
        r=$(rss_kb "$RCFD_PID" 2>/dev/null || echo 0)
        [ "$r" -gt "$maxrss" ] && maxrss=$r
        [ "$(date +%s)" -lt "$deadline" ] || break
        sleep 0.5
    done
    stop_rcfd TERM
    [ "$RCFD_RC" -eq 0 ] || fail "$name: exit code $RCFD_RC"
    cat *.out.jsonl > all.jsonl
    $C count --inputs in.txt --out all=all.jsonl
    echo "$name: max RSS $maxrss kB"
    PHASE_RSS=$maxrss
}
batch 3000
phase first
ls st/in.in.0.ckpt st/in.in.1.ckpt > /dev/null

# (a) swapped between the partitions
for s in "" ".prev"; do
    [ -f "st/in.in.0.ckpt$s" ] && [ -f "st/in.in.1.ckpt$s" ] || continue
    mv "st/in.in.0.ckpt$s" swap; mv "st/in.in.1.ckpt$s" "st/in.in.0.ckpt$s"; mv swap "st/in.in.1.ckpt$s"
done
batch 1000
phase swapped
grep -q "refused: it is the checkpoint of source in, in\[1\]" swapped.log ||
    fail "swapped checkpoints were not refused: $(grep state swapped.log | head -5)"

# (b) forged: a checksum-valid checkpoint resuming far past the end
for p in 0 1; do
    $C forge "st/in.in.$p.ckpt" 1000000000
    rm -f "st/in.in.$p.ckpt.prev"
done
batch 1000
phase forged
grep -q "outside the partition's offsets" forged.log ||
    fail "forged checkpoints were not refused: $(grep state forged.log | head -5)"

# (c) a sparse 4 GB latest checkpoint: refused after 32 bytes
for p in 0 1; do
    truncate -s 0 "st/in.in.$p.ckpt"
    truncate -s 4G "st/in.in.$p.ckpt"
done
batch 1000
phase sparse
grep -q "not a checkpoint" sparse.log || fail "the sparse file was not refused"
[ "$PHASE_RSS" -lt 400000 ] || fail "RSS reached $PHASE_RSS kB with a sparse 4 GB checkpoint"

# (d) another cluster, a shorter topic: its checkpoints name offsets past this one's end
kill "${PIDS[0]}"
start_mock in:2
rm -f *.out.jsonl
seqs=100
batch 500
phase other
grep -q "another Kafka cluster\|outside the partition's offsets" other.log ||
    fail "another cluster's checkpoints were not refused: $(grep state other.log | head -5)"
echo "ch_state: swapped, forged, sparse and foreign checkpoints refused; nothing skipped"
