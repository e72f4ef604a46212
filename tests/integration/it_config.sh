#!/usr/bin/env bash
# --check-config rejects each kind of bad config with exit 78 and the JSON path; `rcfd -c` refuses
# to start on one; --print-config fills in defaults and hides secrets unless --show-secrets; the
# committed conf/README.md is what --config-reference generates now; the example configs in conf/
# are valid.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

base() { # PIPELINE_EXTRA MODEL_EXTRA SOURCE_EXTRA
cat <<JSON
{"sources": [{"name": "in", "type": "file", "path": "in.jsonl"$3}],
 "outputs": [{"name": "out", "type": "file", "path": "out.jsonl"}],
 "pipelines": [{"name": "p", "source": "in", "fields": ["a"], "outputs": ["out"]$1,
                "models": [{"type": "rcf"$2}]}]}
JSON
}
expect78() { # NAME EXPECTED_MESSAGE_FRAGMENT (config on stdin)
    cat > "$1.json"
    set +e
    "$RCFD" --check-config -c "$1.json" > "$1.out" 2> "$1.err"
    local rc=$?
    set -e
    [ $rc -eq 78 ] || fail "$1: exit $rc, expected 78"
    grep -qF -- "$2" "$1.err" || fail "$1: message '$(cat "$1.err")' lacks '$2'"
}

base "" ', "shingle_size": 0' "" | expect78 range "pipelines[0].models[0].shingle_size: 0 is out of range [1, 1024] or \"auto\""
base "" ', "number_of_trees": "many"' "" | expect78 type "pipelines[0].models[0].number_of_trees: expected an integer in [1, 1000]"
base ', "colour": "red"' "" "" | expect78 unknown "pipelines[0].colour: unknown key; valid keys: name, source, fields"
base "" "" ', "replay_speed": -1' | expect78 srange "sources[0].replay_speed: -1 is out of range [0, 1e+06]"
base "" "" "" | sed 's/"source": "in"/"source": "nope"/' | expect78 ref 'pipelines[0].source: no source is named "nope"'
base "" ', "type": "rcf"' "" | expect78 dup "pipelines[0].models[0].type: duplicate key"
echo '{"sources": [' | expect78 json "invalid JSON at line 1"
base "" ', "sub_sample_size": 256, "time_decay": 100' "" | expect78 decay "pipelines[0].models[0]: "
cat <<JSON | expect78 rdkafka 'sources[0].rdkafka."session.timeout.ms": '
{"sources": [{"name": "in", "type": "kafka", "topics": ["t"],
              "rdkafka": {"bootstrap.servers": "127.0.0.1:1", "group.id": "g", "session.timeout.ms": "x"}}],
 "outputs": [{"name": "out", "type": "file", "path": "out.jsonl"}],
 "pipelines": [{"name": "p", "source": "in", "fields": ["a"], "outputs": ["out"], "models": [{"type": "rcf"}]}]}
JSON

# The daemon itself refuses a bad config with 78 and the path, before touching anything.
set +e
"$RCFD" -c range.json 2> run.err
rc=$?
set -e
[ $rc -eq 78 ] || fail "rcfd -c with a bad config: exit $rc"
grep -qF "shingle_size" run.err || fail "rcfd -c: no path in '$(cat run.err)'"
[ ! -e out.jsonl ] || fail "a bad config opened its outputs"

base "" "" "" > good.json
"$RCFD" --check-config -c good.json | grep -q "OK" || fail "good config rejected"
"$RCFD" --print-config -c good.json > printed.json
python3 - printed.json <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
m = c["pipelines"][0]["models"][0]
assert (m["number_of_trees"], m["sub_sample_size"], m["time_decay"], m["shingle_size"]) == (100, 256, 100000, "auto"), m
assert c["outputs"][0]["style"] == "rcfd" and c["runtime"]["shutdown_timeout_ms"] == 10000, c
PY
"$RCFD" --check-config -c printed.json > /dev/null || fail "printed config does not parse back"

# Secrets: a webhook's header values (here a token from the environment), a URL password and the
# sensitive librdkafka properties print as *** unless --show-secrets; the redacted print still
# checks as a config.
cat > secret.json <<'JSON'
{"sources": [{"name": "in", "type": "kafka", "topics": ["t"],
              "rdkafka": {"bootstrap.servers": "127.0.0.1:1", "group.id": "g",
                          "sasl.username": "u", "sasl.password": "${RCFD_IT_KPASS}"}}],
 "outputs": [{"name": "hook", "type": "webhook", "url": "https://u:${RCFD_IT_UPASS}@127.0.0.1:1/a",
              "headers": {"Authorization": "Bearer ${RCFD_IT_TOKEN}", "X-Source": "rcfd"}}],
 "pipelines": [{"name": "p", "source": "in", "fields": ["a"], "outputs": ["hook"], "models": [{"type": "rcf"}]}]}
JSON
export RCFD_IT_TOKEN=tok-s3cret RCFD_IT_UPASS=url-s3cret RCFD_IT_KPASS=kafka-s3cret
"$RCFD" --print-config -c secret.json > secret.out
"$RCFD" --print-config --show-secrets -c secret.json > secret-shown.out
python3 - secret.out secret-shown.out <<'PY'
import json, sys
red, shown = open(sys.argv[1]).read(), open(sys.argv[2]).read()
for s in ("tok-s3cret", "url-s3cret", "kafka-s3cret"):
    assert s not in red, "%s printed: %s" % (s, red)
    assert s in shown, "%s missing with --show-secrets" % s
r = json.loads(red)
h = r["outputs"][0]
assert h["headers"] == {"Authorization": "***", "X-Source": "***"}, h["headers"]
assert h["url"] == "https://u:***@127.0.0.1:1/a", h["url"]
k = r["sources"][0]["rdkafka"]
assert k["sasl.password"] == "***" and k["sasl.username"] == "***" and k["group.id"] == "g", k
assert json.loads(shown)["outputs"][0]["headers"]["Authorization"] == "Bearer tok-s3cret"
PY
"$RCFD" --check-config -c secret.out > /dev/null || fail "the redacted print does not parse back"
unset RCFD_IT_TOKEN RCFD_IT_UPASS RCFD_IT_KPASS

"$RCFD" --config-reference > reference.md
diff -u "$SRC_DIR/conf/README.md" reference.md || fail "conf/README.md is stale: regenerate with rcfd --config-reference"
for f in "$SRC_DIR"/conf/*.json; do
    KAFKA_BOOTSTRAP=127.0.0.1:9092 "$RCFD" --check-config -c "$f" > /dev/null || fail "$f is invalid"
done
echo "it_config: OK"
