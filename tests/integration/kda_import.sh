#!/usr/bin/env bash
# rcfd kda import over test applications written in the shape of the KDA developer guide's
# examples (tests/data/kda/*.sql: RANDOM_CUT_FOREST with KDA's defaults and CURSOR(SELECT STREAM *),
# RANDOM_CUT_FOREST_WITH_EXPLANATION with arithmetic in the CURSOR and a WHERE in a second pump,
# HOTSPOTS, and a chain of streams with a normalizing pump and two destinations). For each: the
# generated config passes --check-config, and the daemon running it writes, record for record and
# byte for byte, what it writes running the hand-written equivalent (tests/data/kda/*.json) over
# the same generated input. The report names what was mapped. The defaults (stdin to stdout) run
# as the migration guide types them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
DATA=$SRC_DIR/tests/data/kda

gen() { # gen APP: in.jsonl for the application
    python3 - "$1" <<'PY'
import json, math, random, sys
app = sys.argv[1]
random.seed(sum(map(ord, app)))
out = open("in.jsonl", "w")
def w(o): out.write(json.dumps(o) + "\n")
if app == "payments":
    for i in range(1200):
        amount = int(random.gauss(60, 15)) if i % 300 != 277 else 4000
        w({"amount": amount, "merchant": "m%d" % (i % 7)})
elif app == "network":
    for i in range(1500):
        bi = random.gauss(80000, 5000); bo = random.gauss(20000, 2000); lat = random.gauss(30, 3)
        if i % 250 == 211: bi, lat = bi * 20, lat * 10
        w({"bytes_in": round(bi), "bytes_out": round(bo), "latency_ms": round(lat, 3)})
elif app == "taxis":
    centers = [(1, 1), (5, 5), (8, 2)]
    for i in range(800):
        cx, cy = centers[i % 3] if i % 5 else (random.uniform(0, 10), random.uniform(0, 10))
        w({"x": round(cx + random.gauss(0, 0.2), 4), "y": round(cy + random.gauss(0, 0.2), 4),
           "zone": "z%d" % (i % 4)})
elif app == "hosts":
    for i in range(1000):
        cpu = 40 + 10 * math.sin(i / 15) + random.gauss(0, 2)
        if i % 200 == 150: cpu = 99
        w({"host": "h%d" % (i % 3), "cpu": round(cpu, 3), "mem": 8000000000 + int(random.gauss(0, 5e7)),
           "mem base": 2000000000})
PY
}

for app in payments network taxis hosts; do
    mkdir "$app"
    (
        cd "$app"
        gen "$app"
        "$RCFD" kda import "$DATA/$app.sql" --source file:in.jsonl --output 'file:gen-{stream}.jsonl' \
            --out gen.json --report report.txt 2> import.log || fail "$app: import exit $?"
        "$RCFD" --check-config -c gen.json > /dev/null 2> check.log || fail "$app: $(cat check.log)"
        "$RCFD" -c gen.json 2> gen.log || fail "$app: generated config exit $?"
        "$RCFD" -c "$DATA/$app.json" 2> hand.log || fail "$app: hand-written config exit $?"
        n=0
        for hand in hand-*.jsonl; do
            generated=gen-${hand#hand-}
            [ -f "$generated" ] || fail "$app: no $generated beside $hand"
            cmp -s "$hand" "$generated" || fail "$app: $generated differs from $hand: $(diff "$hand" "$generated" | head -4)"
            n=$((n + $(wc -l < "$hand")))
        done
        [ "$(ls gen-*.jsonl | wc -l)" -eq "$(ls hand-*.jsonl | wc -l)" ] || fail "$app: output files differ: $(ls)"
        echo "$app: $n records identical ($(ls hand-*.jsonl | tr '\n' ' '))"
    )
done

# What the counts and reports must say.
python3 - <<'PY'
import json
def load(p): return [json.loads(l) for l in open(p)]
pay = load("payments/gen-DESTINATION_SQL_STREAM.jsonl")
assert len(pay) == 1200 and all("ANOMALY_SCORE" in r and "ANOMALY_EXPLANATION" not in r for r in pay)
assert all(r["ANOMALY_SCORE"] == 0 for r in pay[:256]), "KDA scores 0 for the first subSampleSize records"
assert max(r["ANOMALY_SCORE"] for r in pay[256:]) > 3
net = load("network/gen-DESTINATION_SQL_STREAM.jsonl")
assert 0 < len(net) < 1500 and all(r["ANOMALY_SCORE"] >= 1.5 for r in net), len(net)
assert all(set(json.loads(r["ANOMALY_EXPLANATION"])) == {"kb_in", "total", "latency_ms"} for r in net)
taxi = load("taxis/gen-DESTINATION_SQL_STREAM.jsonl")
assert len(taxi) == 800 and any(json.loads(r["HOTSPOTS_RESULT"])["hotspots"] for r in taxi)
every = load("hosts/gen-ALL_SCORES.jsonl"); alerts = load("hosts/gen-ALERTS.jsonl")
assert len(every) == 1000 and 0 < len(alerts) < 50 and all(r["ANOMALY_SCORE"] >= 2 for r in alerts), len(alerts)
PY
grep -q 'RANDOM_CUT_FOREST(numberOfTrees 100, subSampleSize 256, timeDecay 100000, shingleSize 1) of "SCORE_PUMP" -> pipelines\[0\], model rcf with KDA.s forest (recent_mean 0); fields amount' payments/report.txt || fail "payments report: $(cat payments/report.txt)"
grep -q 'took the numeric ones the application passes on: "amount" (INTEGER in SCORED_PAYMENTS)' payments/report.txt || fail "payments report: no assumption"
grep -q 'ORDER BY in "SORT_PUMP"' payments/report.txt || fail "payments report: ORDER BY"
grep -q '31:42 *WHERE ANOMALY_SCORE > 1.5 -> outputs\[0\].min_score 1.5' network/report.txt || fail "network report: $(cat network/report.txt)"
grep -q 'fields kb_in (derived), total (derived), latency_ms' network/report.txt || fail "network report: fields"
grep -q 'column "zone" (VARCHAR) of the CURSOR of "HOTSPOT_PUMP" is not numeric: ignored' taxis/report.txt || fail "taxis report: $(cat taxis/report.txt)"
grep -q 'WHERE ANOMALY_SCORE > 2 -> outputs\[1\].min_score 2' hosts/report.txt || fail "hosts report: $(cat hosts/report.txt)"

# The defaults, as the migration guide runs them: stdin to stdout, the report on stderr.
"$RCFD" kda import "$DATA/payments.sql" > piped.json 2> piped.report
"$RCFD" -c piped.json < payments/in.jsonl > piped.out 2> piped.log
cmp -s piped.out payments/hand-DESTINATION_SQL_STREAM.jsonl || fail "stdin/stdout run differs"
grep -q "payments.sql -> stdout: 4 statements -> 1 source, 1 pipeline, 1 output" piped.report || fail "report head: $(head -1 piped.report)"

# --columns declares the input; --format csv reads it positionally (KDA's CSV input).
python3 -c '
import json
with open("payments/in.jsonl") as f, open("in.csv", "w") as o:
    for l in f:
        r = json.loads(l); o.write("%s,%d\n" % (r["merchant"], r["amount"]))'
"$RCFD" kda import "$DATA/payments.sql" --columns '"merchant" VARCHAR(32), "amount" INTEGER' --format csv \
    --source file:in.csv --output file:csv.out --out csv.json 2> csv.report
"$RCFD" -c csv.json 2> csv.log
python3 - <<'PY'
import json
a = [json.loads(l)["ANOMALY_SCORE"] for l in open("csv.out")]
b = [json.loads(l)["ANOMALY_SCORE"] for l in open("payments/hand-DESTINATION_SQL_STREAM.jsonl")]
assert a == b, "csv scores differ"
PY
grep -q 'assumed:' csv.report && fail "--columns still assumed: $(cat csv.report)"

# --describe: describe-application's JSON gives the SQL, the columns and their JSON paths, the
# Kinesis streams and the starting position; the command line overrides the endpoints. The
# nested "payment.amount" scores as the flat "amount" does.
"$RCFD" kda import --describe "$DATA/payments-describe.json" --out d.json 2> d.report
python3 - <<'PY'
import json
c = json.load(open("d.json"))
assert c["sources"] == [{"name": "SOURCE_SQL_STREAM_001", "type": "kinesis", "stream": "payments-in",
                         "region": "us-east-1", "starting_position": "TRIM_HORIZON"}], c["sources"]
assert c["outputs"] == [{"name": "DESTINATION_SQL_STREAM", "type": "kinesis", "stream": "payments-scored",
                         "region": "us-east-1", "style": "kda"}], c["outputs"]
assert c["pipelines"][0]["fields"] == [{"name": "amount", "expr": "payment.amount"}], c["pipelines"][0]
PY
grep -q 'fields amount (from payment.amount)' d.report || fail "describe report: $(cat d.report)"
AWS_REGION=us-east-1 "$RCFD" --check-config -c d.json > /dev/null || fail "describe config rejected"
python3 -c '
import json
with open("payments/in.jsonl") as f, open("nested.jsonl", "w") as o:
    for l in f:
        r = json.loads(l); o.write(json.dumps({"merchant": r["merchant"], "payment": {"amount": r["amount"]}}) + "\n")'
"$RCFD" kda import --describe "$DATA/payments-describe.json" --source file:nested.jsonl \
    --output file:nested.out --out dn.json 2> /dev/null
"$RCFD" -c dn.json 2> dn.log
python3 - <<'PY'
import json
a = [json.loads(l)["ANOMALY_SCORE"] for l in open("nested.out")]
b = [json.loads(l)["ANOMALY_SCORE"] for l in open("payments/hand-DESTINATION_SQL_STREAM.jsonl")]
assert a == b, "nested scores differ"
PY

# Kafka specs: ${KAFKA_BOOTSTRAP} by default, so the config checks where it is set.
"$RCFD" kda import "$DATA/network.sql" --source kafka:flows --output 'kafka:rcfd-{stream}' --out k.json 2> /dev/null
grep -q '"bootstrap.servers": "${KAFKA_BOOTSTRAP}", "group.id": "rcfd-network"' k.json || fail "kafka source: $(cat k.json)"
KAFKA_BOOTSTRAP=127.0.0.1:9 "$RCFD" --check-config -c k.json > /dev/null || fail "kafka config rejected"
echo "kda_import: OK"
