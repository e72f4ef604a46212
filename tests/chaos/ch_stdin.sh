#!/usr/bin/env bash
# What nohup, cron and systemd hand a daemon as stdin: /dev/null, a closed descriptor, a regular
# file, a pipe. `rcfd -c conf/backtest-csv.json` (CSV from stdin to stdout) must finish with exit 0
# on each, writing one scored line per data line, and never abort (uv_pipe_open on a character
# device used to: SIGABRT in uv_run). Stdout closed too: the daemon must not write its records
# into whatever gets descriptor 1.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
CONF="$SRC_DIR/conf/backtest-csv.json"
printf 'time,host,cpu,mem\n' > data.csv
for i in $(seq 1 300); do printf '%d,h%d,%d,%d\n' "$i" $((i % 3)) $((i % 17)) $((i % 5)); done >> data.csv

run() { # NAME: runs rcfd with the redirections that follow, records its exit code
    local name=$1; shift
    set +e
    timeout $((30 * TIME_MULT)) "$@" 2> "$name.log"
    local rc=$?
    set -e
    [ "$rc" -eq 0 ] || fail "$name: exit code $rc"
}
run null "$RCFD" -c "$CONF" < /dev/null > null.out
[ ! -s null.out ] || fail "/dev/null: output from no input"
grep -q "finished after 0 records" null.log || fail "/dev/null: not finished"
run closed "$RCFD" -c "$CONF" <&- > closed.out
[ ! -s closed.out ] || fail "closed stdin: output from no input"
run file "$RCFD" -c "$CONF" < data.csv > file.out
[ "$(wc -l < file.out)" -eq 300 ] || fail "regular file: $(wc -l < file.out) lines"
cat data.csv | run pipe "$RCFD" -c "$CONF" > pipe.out
[ "$(wc -l < pipe.out)" -eq 300 ] || fail "pipe: $(wc -l < pipe.out) lines"
run noout "$RCFD" -c "$CONF" < data.csv >&-
echo "ch_stdin: /dev/null, closed, file and pipe stdin all finish with exit 0"
