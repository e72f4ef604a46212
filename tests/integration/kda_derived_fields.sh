#!/usr/bin/env bash
# Derived fields ({"name", "expr"} in a pipeline's fields): a pipeline computing x / 100 and
# x / 100 + y * 2 from the record scores every record exactly as a pipeline reading the same
# values precomputed in the input (same ANOMALY_SCORE and ANOMALY_EXPLANATION, record for record);
# a division by a field that is 0 dead-letters the record with the reason; CSV columns by name work
# inside expressions; --check-config names the path and column of a bad expression.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

python3 - <<'PY'
import json, random
random.seed(17)
with open("raw.jsonl", "w") as raw, open("pre.jsonl", "w") as pre, open("raw.csv", "w") as csv:
    csv.write("t,x,y\n")
    for i in range(1500):
        x = random.gauss(500, 40) if i % 250 != 199 else 2500.0
        y = random.gauss(0, 1)
        raw.write(json.dumps({"i": i, "x": x, "y": y}) + "\n")
        # the same IEEE operations in the same order as the expressions below
        pre.write(json.dumps({"i": i, "x_scaled": x / 100, "sum": x / 100 + y * 2}) + "\n")
        csv.write("%d,%r,%r\n" % (i, x, y))
PY
model='"models": [{"type": "rcf", "number_of_trees": 40, "sub_sample_size": 64, "time_decay": 5000, "explain": true, "recent_mean": 0, "shingle_size": 1}]'
cat > derived.json <<JSON
{"sources": [{"name": "s", "type": "file", "path": "raw.jsonl"}],
 "outputs": [{"name": "o", "type": "file", "path": "derived.out", "style": "kda"}],
 "pipelines": [{"name": "p", "source": "s",
                "fields": [{"name": "x_scaled", "expr": "x / 100"}, {"name": "sum", "expr": "x / 100 + y * 2"}],
                "outputs": ["o"], $model}]}
JSON
cat > plain.json <<JSON
{"sources": [{"name": "s", "type": "file", "path": "pre.jsonl"}],
 "outputs": [{"name": "o", "type": "file", "path": "plain.out", "style": "kda"}],
 "pipelines": [{"name": "p", "source": "s", "fields": ["x_scaled", "sum"], "outputs": ["o"], $model}]}
JSON
"$RCFD" --check-config -c derived.json > /dev/null || fail "derived.json rejected"
# --print-config writes derived fields back as objects, and what it prints loads again
"$RCFD" --print-config -c derived.json > printed.json
python3 -c '
import json, sys
f = json.load(open("printed.json"))["pipelines"][0]["fields"]
assert f == [{"name": "x_scaled", "expr": "x / 100"}, {"name": "sum", "expr": "x / 100 + y * 2"}], f'
"$RCFD" --check-config -c printed.json > /dev/null || fail "printed config rejected"
"$RCFD" -c derived.json 2> derived.log || fail "derived run exit $?"
"$RCFD" -c plain.json 2> plain.log || fail "plain run exit $?"
python3 - <<'PY'
import json, sys
a = [json.loads(l) for l in open("derived.out")]
b = [json.loads(l) for l in open("plain.out")]
assert len(a) == len(b) == 1500, (len(a), len(b))
high = 0
for i, (x, y) in enumerate(zip(a, b)):
    assert x["i"] == y["i"] == i, (i, x["i"], y["i"])
    for k in ("ANOMALY_SCORE", "ANOMALY_EXPLANATION"):
        if x[k] != y[k]:
            sys.exit("record %d: %s %r != %r" % (i, k, x[k], y[k]))
    if x["ANOMALY_SCORE"] > 2:
        high += 1
        assert "x_scaled" in json.loads(x["ANOMALY_EXPLANATION"])
# the injected spikes (every 250th record from 199 on, after the 64-record warm-up) score high
assert high >= 5, high
print("derived fields: 1500 records score identically to precomputed fields; %d high" % high)
PY

# A division by a field that is 0: the record goes to the dead letter output with the reason.
printf '{"a": 1, "b": 2}\n{"a": 1, "b": 0}\n{"a": 3, "b": 4}\n' > div.jsonl
cat > div.json <<'JSON'
{"sources": [{"name": "s", "type": "file", "path": "div.jsonl"}],
 "outputs": [{"name": "o", "type": "file", "path": "div.out"}, {"name": "d", "type": "file", "path": "div.dead"}],
 "pipelines": [{"name": "p", "source": "s", "fields": [{"name": "ratio", "expr": "a / b"}], "outputs": ["o"],
                "dead_letter": "d", "models": [{"type": "rcf", "number_of_trees": 5, "sub_sample_size": 10, "time_decay": 100}]}]}
JSON
"$RCFD" -c div.json 2> div.log || fail "div run exit $?"
[ "$(wc -l < div.out)" -eq 2 ] || fail "div: $(wc -l < div.out) scored, expected 2"
grep -q 'derived field \\"ratio\\" (a / b) is not a finite number.*"line":2' div.dead || fail "div dead letter: $(cat div.dead)"

# CSV with a header: names inside expressions are columns.
sed 's#"path": "raw.jsonl"#"path": "raw.csv", "format": "csv"#; s#derived.out#csv.out#' derived.json > csv.json
"$RCFD" -c csv.json 2> csv.log || fail "csv run exit $?"
python3 - <<'PY'
import json
a = [json.loads(l) for l in open("derived.out")]
c = [json.loads(l) for l in open("csv.out")]
assert len(c) == 1500
assert all(x["ANOMALY_SCORE"] == y["ANOMALY_SCORE"] for x, y in zip(a, c)), "csv scores differ"
PY

# --check-config names the bad expression's path and column; a CSV source without names refuses
# column names inside expressions.
sed 's#"x / 100 + y \* 2"#"x / 100 +* y"#' derived.json > bad.json
set +e
"$RCFD" --check-config -c bad.json 2> bad.err; rc=$?
set -e
[ $rc -eq 78 ] || fail "bad expression: exit $rc"
grep -q 'pipelines\[0\].fields\[1\].expr: column 10: expected a number, a field or "(" before the operator' bad.err || fail "bad expression: $(cat bad.err)"
sed 's#"path": "raw.jsonl"#"path": "raw.csv", "format": "csv", "csv_header": false#' derived.json > noname.json
set +e
"$RCFD" --check-config -c noname.json 2> noname.err; rc=$?
set -e
[ $rc -eq 78 ] || fail "csv without names: exit $rc"
grep -q 'fields\[0\].expr: "x" is a column name' noname.err || fail "csv without names: $(cat noname.err)"
echo "kda_derived_fields: OK"
