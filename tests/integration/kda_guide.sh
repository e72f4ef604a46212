#!/usr/bin/env bash
# docs/migrating-from-kda.md runs as typed: every ```sh block, in order, in one shell, from a
# directory laid out like a checkout (build/bin/rcfd, tests/), failing on the first error.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
mkdir -p build/bin
ln -s "$RCFD" build/bin/rcfd
ln -s "$SRC_DIR/tests" tests
python3 - "$SRC_DIR/docs/migrating-from-kda.md" > guide.sh <<'PY'
import sys
out, block = [], None
for line in open(sys.argv[1]):
    if block is None and line.strip() == "```sh":
        block = []
    elif block is not None and line.strip() == "```":
        out.append("".join(block))
        block = None
    elif block is not None:
        block.append(line)
assert out, "no sh blocks"
print("set -euo pipefail")
for i, b in enumerate(out):
    print("echo '--- block %d'" % (i + 1))
    print(b)
PY
bash guide.sh > guide.out 2> guide.log || { cat guide.out; tail -20 guide.log; fail "the guide's commands failed"; }
n=$(grep -c -- '--- block' guide.out)
grep -q "network.json: OK" guide.out || fail "no --check-config OK: $(cat guide.out)"
grep -q "kinesis.json: OK" guide.out || fail "kinesis config: $(cat guide.out)"
grep -q "described.json: OK" guide.out || fail "described config: $(cat guide.out)"
grep -Eq "Spearman rank correlation 0\.[0-9]+, top 1% overlap [0-9]+/17" guide.out || fail "comparison: $(tail -3 guide.out)"
echo "kda_guide: $n blocks ran; $(tail -1 guide.out)"
