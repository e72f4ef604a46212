#!/usr/bin/env bash
# Every malformed record comes out dead-lettered with a reason (or scored, when it is valid):
# truncated JSON, an array where a number is wanted, "Infinity" as a string and as a bare word, a
# valid record nested 999 deep, lines of 2 MB and 10 MB, binary junk, an empty line, a CR-only
# line, invalid UTF-8 (inside a string and as a key), numbered good records between them; through
# the file source (line numbers) and the Kafka source (offsets; also an empty message and a
# tombstone). Every line and every offset is counted in the output and the dead-letter output:
# none may be missing, and the daemon must exit 0 (under AddressSanitizer too: a report aborts it).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

python3 - <<'PY'
import json
bad = [b'{"key":"a","v":', b'{"key":"a","v":[1,2]}', b'{"key":"a","v":"Infinity"}',
       b'{"key":"a","v":Infinity}', b'{"key":"a","v":2,"x":' + b'[' * 999 + b']' * 999 + b'}',
       b'{"key":"a","v":3,"pad":"' + b'x' * (2 << 20) + b'"}',
       b'{"key":"a","v":3,"pad":"' + b'x' * (10 << 20) + b'"}',
       bytes(range(256)).replace(b'\n', b''), b'', b'\r', b'\xff\xfe\t\x80\x01', b'{"key":"a\xff\xfe","v":4}',
       b'{"key":"a","v":4,"s":"\xc0\xaf"}', b'\x00\x01\x02', b'{"key":"a","v":"12abc"}',
       b'{"key":"a","v":1e999}', b'[]', b'null', b'"just a string"', b'{"key":{"x":1},"v":1}',
       b'   ', b'{"key":"a","v":5}\x00trailing']
lines, kafka = [], []
for i in range(400):
    good = json.dumps({"key": "k%d" % (i % 7), "seq": i, "v": (i * 37) % 101 / 10.0}).encode()
    lines.append(good)
    kafka.append(good)
    if i % 19 == 3:
        b = bad[(i // 19) % len(bad)]
        lines.append(b)
        # kcat splits its input at newlines: a message cannot hold one; and it does not produce
        # a 10 MB one to the mock cluster (the file source reads that one)
        if b'\n' not in b and len(b) < (4 << 20):
            kafka.append(b)
for b in bad:
    lines.append(b)
open("in.jsonl", "wb").write(b"\n".join(lines) + b"\n")
open("in.txt", "w").write("".join("in.jsonl %d\n" % (n + 1) for n in range(len(lines))))
open("in.kafka", "wb").write(b"".join(b"k\t" + m + b"\n" for m in kafka))
PY

# The file source.
cat > f.json <<JSON
{"runtime": {"stats_interval_ms": 0},
 "sources": [{"name": "in", "type": "file", "path": "in.jsonl"}],
 "outputs": [{"name": "out", "type": "file", "path": "out.jsonl"},
             {"name": "dead", "type": "file", "path": "dead.jsonl"}],
 "pipelines": [{"name": "p", "source": "in", "key": "key", "fields": ["v"], "outputs": ["out"],
                "dead_letter": "dead",
                "models": [{"type": "rcf", "number_of_trees": 10, "sub_sample_size": 16}]}]}
JSON
start_rcfd f -c f.json
set +e
wait "$RCFD_PID"
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "file source: exit code $rc"
$C count --inputs in.txt --out out=out.jsonl --dead dead.jsonl
# Dead letters are JSON whatever the record was (base64 for bytes that are not UTF-8), large
# records are cut, and each says why.
python3 - <<'PY'
import json, sys
reasons = []
for l in open("dead.jsonl"):
    d = json.loads(l)
    assert ("record" in d) != ("record_base64" in d), d
    assert len(l) < 70000, len(l)
    reasons.append(d["reason"])
for want in ("invalid JSON", "non-numeric", "NaN or infinite", "larger than", "invalid UTF-8",
             "empty record", "not a JSON object", "trailing data"):
    if not any(want in r for r in reasons):
        sys.exit("no dead letter says %r" % want)
print("dead letters: valid JSON, at most %d bytes, every reason present" %
      max(len(l) for l in open("dead.jsonl")))
PY

# The Kafka source: the same payloads as messages, plus an empty one and a tombstone.
start_mock in:2
kcat -P -b "$BOOT" -t in -K $'\t' -z none -X log_level=3 -X message.max.bytes=16000000 < in.kafka
printf 'k\t\n' | kcat -P -b "$BOOT" -t in -K $'\t' -X log_level=3
printf 'k\n' | kcat -P -b "$BOOT" -t in -K $'\t' -Z -X log_level=3 2>/dev/null ||
    printf 'k\t\n' | kcat -P -b "$BOOT" -t in -K $'\t' -Z -X log_level=3
inputs in kin.txt
[ "$(wc -l < kin.txt)" -eq $(( $(wc -l < in.kafka) + 2 )) ] ||
    fail "kcat produced $(wc -l < kin.txt) messages of $(( $(wc -l < in.kafka) + 2 ))"
cat > k.json <<JSON
{"runtime": {"stats_interval_ms": 0},
 "sources": [{"name": "in", "type": "kafka", "topics": ["in"],
              "rdkafka": {"bootstrap.servers": "$BOOT", "group.id": "malformed",
                          "auto.offset.reset": "earliest"}}],
 "outputs": [{"name": "out", "type": "file", "path": "kout.jsonl"},
             {"name": "dead", "type": "file", "path": "kdead.jsonl"}],
 "pipelines": [{"name": "p", "source": "in", "key": "key", "fields": ["v"], "outputs": ["out"],
                "dead_letter": "dead",
                "models": [{"type": "rcf", "number_of_trees": 10, "sub_sample_size": 16}]}]}
JSON
start_rcfd k -c k.json
covered 60 --inputs kin.txt --out out=kout.jsonl --dead kdead.jsonl
stop_rcfd TERM
[ "$RCFD_RC" -eq 0 ] || fail "kafka source: exit code $RCFD_RC"
$C count --inputs kin.txt --out out=kout.jsonl --dead kdead.jsonl
grep -q "empty" kdead.jsonl || fail "the empty message was not dead-lettered"
echo "ch_malformed: every line and offset accounted for"
