#!/usr/bin/env bash
# An output file deleted while the daemon writes it (rm, not a rename: no SIGHUP follows). Six
# times in a stream of 30,000 records fed through a FIFO, the daemon is stopped (SIGSTOP), the
# file is copied aside and deleted, and the daemon continues (SIGCONT): what it had written is in
# the copy, and everything after must land in the file it reopens at the path, the batch it was
# writing included (the fstat after each batch sees the link count 0 and writes it again). The
# copies plus the last file must hold every line number: lost 0.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=30000
$C gen "$N" 20 7 in.tsv
cut -f2 in.tsv > in.jsonl
mkfifo fifo
cat > f.json <<JSON
{"runtime": {"stats_interval_ms": 0},
 "sources": [{"name": "in", "type": "file", "path": "fifo"}],
 "outputs": [{"name": "file", "type": "file", "path": "out.jsonl", "batch_max_records": 100}],
 "pipelines": [{"name": "p", "source": "in", "fields": ["v", "w"], "key": "key",
                "outputs": ["file"],
                "models": [{"type": "rcf", "number_of_trees": 10, "sub_sample_size": 32}]}]}
JSON
start_rcfd r -c f.json
exec 3> fifo
split -l 1000 -d -a 3 in.jsonl part.
n=0
for p in part.*; do
    cat "$p" >&3
    n=$((n + 1))
    if [ $((n % 5)) -eq 0 ]; then
        # something written since the last deletion (all of it may be written already, so the
        # file need not grow from now on: waiting for growth would wait for records never sent)
        deadline=$(( $(date +%s) + 30 * TIME_MULT ))
        until [ -s out.jsonl ]; do
            [ "$(date +%s)" -lt "$deadline" ] || fail "nothing written to out.jsonl in 30 s"
            sleep 0.1
        done
        kill -STOP "$RCFD_PID"
        cp out.jsonl "saved.$n.jsonl"
        rm out.jsonl
        kill -CONT "$RCFD_PID"
    fi
done
exec 3>&-
set +e
wait "$RCFD_PID"
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "exit code $rc"
seq 1 "$N" | sed 's/^/fifo /' > inputs.txt
cat saved.*.jsonl > all.jsonl
[ -f out.jsonl ] && cat out.jsonl >> all.jsonl
deleted=$(grep -c "was deleted: reopening" r.log || true)
[ "$deleted" -ge 1 ] || fail "no deletion was noticed"
grep -q "reopened after deletion" r.log || fail "no count of reopenings in the summary"
$C count --inputs inputs.txt --out file=all.jsonl
echo "ch_file_deleted: $deleted deletions noticed, nothing lost"
