#!/usr/bin/env bash
# File sink: CSV output (header + one row per record, nested values as JSON text), rotation by
# size (every file under rotate_bytes, the files together hold every record once, in order) and by
# time, reopen on SIGHUP (logrotate: the new file starts with the CSV header), and the fsync
# policies (batch: one fdatasync per batch before acknowledging; none: never; interval: fewer).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

python3 -c '
import json
for i in range(600):
    print(json.dumps({"ts": 10 * i, "seq": i, "v": (i * 7) % 11, "k": "a", "note": "x,\"y\""}))' > in.jsonl

# conf NAME OUTPUT-JSON-EXTRA [SOURCE-EXTRA]
conf() {
    cat > "$1.json" <<JSON
{"log": {"level": "info"}, "runtime": {"stats_interval_ms": 0},
 "sources": [{"name": "s", "type": "file", "path": "in.jsonl", "timestamp_field": "ts" ${3:-}}],
 "outputs": [{"name": "o", "type": "file", "path": "$1.out" $2}],
 "pipelines": [{"name": "p", "source": "s", "fields": ["v"], "key": "k", "outputs": ["o"],
                "models": [{"type": "rcf", "number_of_trees": 5, "sub_sample_size": 16,
                            "time_decay": 100, "output_after": 1}]}]}
JSON
}
run() { # NAME: runs to completion, expects exit 0
    "$RCFD" -c "$1.json" 2> "$1.log" || fail "$1: exit $?"
}

# CSV
conf csv ', "format": "csv"'
run csv
python3 - csv.out <<'PY'
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1])))
hdr = rows[0]
assert hdr[:5] == ["ts", "seq", "v", "k", "note"], hdr
assert "anomaly_score" in hdr and "_rcfd" in hdr, hdr
assert len(rows) == 601, len(rows)
for i, r in enumerate(rows[1:]):
    d = dict(zip(hdr, r))
    assert int(d["seq"]) == i and d["note"] == 'x,"y"', d
    float(d["anomaly_score"])
    assert json.loads(d["_rcfd"])["pipeline"] == "p"
PY

# Rotation by size: small batches, 8 KiB files.
conf size ', "batch_max_bytes": 1024, "rotate_bytes": 8192'
run size
n=$(ls size.out.* | wc -l)
[ "$n" -ge 5 ] || fail "size rotation: $n rotated files"
grep -q "rotated size.out to size.out." size.log || fail "rotation not logged"
python3 - size.out <<'PY'
import glob, json, os, sys
base = sys.argv[1]
rot = sorted(glob.glob(base + ".*"), key=lambda p: int(p.rsplit(".", 1)[1]))
seqs = []
for p in rot + [base]:
    assert os.path.getsize(p) <= 8192, (p, os.path.getsize(p))
    seqs += [json.loads(l)["seq"] for l in open(p)]
assert seqs == list(range(600)), "records lost, duplicated or reordered across rotations"
PY

# Rotation by time: 600 records at 10 ms event time, replayed at 2x (3 s), 700 ms files.
conf time ', "rotate_interval_ms": 700' ', "replay_speed": 2'
run time
n=$(ls time.out.* | wc -l)
[ "$n" -ge 2 ] && [ "$n" -le 6 ] || fail "time rotation: $n rotated files"
cat $(ls time.out.* | sort -t. -k4 -n) time.out | python3 -c '
import json, sys
assert [json.loads(l)["seq"] for l in sys.stdin] == list(range(600))'

# Reopen on SIGHUP with CSV: the renamed file keeps what it had, the new one starts with a header.
conf hup ', "format": "csv"' ', "replay_speed": 2'
start_rcfd hup -c hup.json
wait_lines hup.out 100 20
mv hup.out hup.old
kill -HUP "$RCFD_PID"
set +e; wait "$RCFD_PID"; rc=$?; set -e
[ $rc -eq 0 ] || fail "hup: exit $rc"
grep -q "reopened hup.out" hup.log || fail "no reopen"
[ "$(head -c 3 hup.out)" = "ts," ] || fail "reopened CSV file has no header"
python3 - hup.old hup.out <<'PY'
import csv, sys
seqs = []
for p in sys.argv[1:]:
    rows = list(csv.reader(open(p)))
    assert rows[0][0] == "ts"
    seqs += [int(r[1]) for r in rows[1:]]
assert seqs == list(range(600)), "records lost or duplicated across the reopen"
PY

# fsync policies
stat_of() { # LOG -> "writes fsyncs batches"
    local f b
    f=$(grep -o 'file [^ ]*: [0-9]* writes, [0-9]* fsyncs' "$1" | awk '{print $3, $5}')
    b=$(grep -o 'records in [0-9]* batches' "$1" | awk '{print $3}')
    echo "$f $b"
}
conf fs_batch ', "fsync": "batch", "batch_max_bytes": 4096'
run fs_batch
read -r w f b <<< "$(stat_of fs_batch.log)"
[ "$f" -eq "$b" ] && [ "$b" -gt 10 ] || fail "fsync batch: $f fsyncs for $b batches"
conf fs_none ', "batch_max_bytes": 4096'
run fs_none
read -r w f b <<< "$(stat_of fs_none.log)"
[ "$f" -eq 0 ] && [ "$b" -gt 10 ] || fail "fsync none: $f fsyncs for $b batches"
conf fs_int ', "fsync": "interval", "fsync_interval_ms": 500' ', "replay_speed": 2'
run fs_int
read -r w f b <<< "$(stat_of fs_int.log)"
[ "$f" -ge 2 ] && [ "$f" -le 8 ] && [ "$b" -gt 20 ] || fail "fsync interval: $f fsyncs for $b batches"
[ "$(wc -l < fs_int.out)" -eq 600 ] || fail "fsync interval: lines"
echo "sk_file: OK"
