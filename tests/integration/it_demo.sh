#!/usr/bin/env bash
# `rcfd demo` end to end: in-process mock cluster, generated sensor and clickstream sample, both
# pipelines, the scored file, and a summary that finds the injected faults and a hotspot.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
"$RCFD" demo --records 1500 --sessions 3000 --out demo.jsonl > demo.txt 2> demo.log || fail "demo exit $?"
cat demo.txt
[ "$(wc -l < demo.jsonl)" -eq 9000 ] || fail "scored file has $(wc -l < demo.jsonl) records, expected 9000"
[ "$(wc -l < demo.jsonl.dead)" -eq 2 ] || fail "dead letters"
grep -q "4 of 4 injected faults are in the top 8" demo.txt || fail "faults not found"
grep -q 'ANOMALY_EXPLANATION {"temperature":{"DIRECTION":' demo.txt || fail "no explanation"
if grep -q "HOTSPOTS" demo.txt; then
    grep -q '{"hotspots":\[{"density":' demo.txt || fail "no hotspot found"
    grep -q '"pipeline":"clicks-hotspots"' demo.jsonl || fail "no hotspots records"
fi
echo "it_demo: OK"
