# Helpers for the sink tests (sourced after lib.sh).

# start_http OUTDIR ARGS... -> HTTP_PORT, HTTP_PID; the server (sk_http.py) logs to OUTDIR/http.log
start_http() {
    local dir=$1; shift
    mkdir -p "$dir"
    python3 "$SRC_DIR/tests/integration/sk_http.py" "$dir/port" "$dir" "$@" > "$dir/http.out" 2> "$dir/http.log" &
    HTTP_PID=$!
    PIDS+=($HTTP_PID)
    for _ in $(seq 100); do
        [ -s "$dir/port" ] && break
        sleep 0.05
    done
    HTTP_PORT=$(cat "$dir/port")
    [ -n "$HTTP_PORT" ] || fail "http server did not start"
}

# wait_listening OUTDIR SECONDS
wait_listening() {
    for _ in $(seq $(( $2 * 20 ))); do
        grep -q listening "$1/http.out" 2>/dev/null && return 0
        sleep 0.05
    done
    fail "http server not listening"
}

# gen_file FILE N KEYS: JSONL records {"k": "k<i%KEYS>", "seq": i, "v": ...}
gen_file() {
    python3 - "$@" <<'PY'
import json, math, sys
f, n, keys = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(f, "w") as out:
    for i in range(n):
        out.write(json.dumps({"k": "k%d" % (i % keys), "seq": i, "v": round(math.sin(i / 9.0), 4)}) + "\n")
PY
}

# check_delivered ACCEPTED N: every seq 0..N-1 at least once; per key, first deliveries in order
check_delivered() {
    python3 - "$@" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
seen = set()
last = {}
for r in recs:
    k, s = r["k"], r["seq"]
    if s in seen:
        continue
    seen.add(s)
    if s < last.get(k, -1):
        sys.exit("key %s: seq %d after %d" % (k, s, last[k]))
    last[k] = s
missing = set(range(n)) - seen
if missing:
    sys.exit("%d records never delivered, e.g. %s" % (len(missing), sorted(missing)[:5]))
PY
}
