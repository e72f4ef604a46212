#!/usr/bin/env bash
# A fatal error in the Kafka sink's producer stops the daemon with exit 69, as the consumer's does.
# The mock cluster fails the first ProduceRequest with INVALID_MSG; with
# enable.gapless.guarantee the idempotent producer cannot continue without a gap and raises a
# genuine fatal error (_GAPLESS_GUARANTEE, librdkafka's own path, no test hook in rcfd). The
# output then sends nothing more: no record is dead-lettered as _FATAL or retried, the records it
# did not settle stay unaccepted (offsets not stored), and after shutdown_timeout_ms the exit code
# is 69, not 75.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_mock --fail-produce 2:1 out:1
python3 -c '
import json
for i in range(40):
    print(json.dumps({"k": "k%d" % (i % 4), "seq": i, "v": i % 7}))' > in.jsonl
cat > f.json <<JSON
{"log": {"level": "info"}, "runtime": {"stats_interval_ms": 0, "shutdown_timeout_ms": 1000},
 "sources": [{"name": "s", "type": "file", "path": "in.jsonl"}],
 "outputs": [{"name": "ko", "type": "kafka", "topic": "out", "batch_max_records": 5,
              "dead_letter": "dl",
              "rdkafka": {"bootstrap.servers": "$BOOT", "enable.gapless.guarantee": "true",
                          "linger.ms": "5"}},
             {"name": "dl", "type": "file", "path": "dead.jsonl"}],
 "pipelines": [{"name": "p", "source": "s", "fields": ["v"], "key": "k", "outputs": ["ko"],
                "models": [{"type": "rcf", "number_of_trees": 5, "sub_sample_size": 16}]}]}
JSON
set +e
timeout $(( 30 * TIME_MULT )) "$RCFD" -c f.json 2> f.log
rc=$?
set -e
[ $rc -eq 69 ] || fail "fatal producer error: exit $rc, expected 69"
grep -q "\[ko\] fatal producer error _GAPLESS_GUARANTEE: .*; sending nothing more" f.log ||
    fail "no fatal producer error in the log"
grep -q "stopped (exit code 69)" f.log || fail "no 'stopped (exit code 69)'"
touch dead.jsonl
! grep -q "_FATAL" dead.jsonl || fail "records dead-lettered for the producer's fatal error"
# Every record is either still unaccepted (read again after a restart) or dead-lettered for the
# broker's own INVALID_MSG, if that delivery report was served before the fatal error.
unaccepted=$(sed -n 's/.* \([0-9]*\) records were not accepted by every output.*/\1/p' f.log)
[ -n "$unaccepted" ] || fail "no unaccepted records reported"
[ $(( unaccepted + $(wc -l < dead.jsonl) )) -eq 40 ] ||
    fail "$unaccepted unaccepted + $(wc -l < dead.jsonl) dead-lettered != 40"
[ "$(kcat -C -b "$BOOT" -t out -e -q -X log_level=3 2>/dev/null | wc -l)" -eq 0 ] ||
    fail "messages reached the topic after the failed request"
grep -q "retrying" f.log && fail "a fatal producer error was retried"
echo "sk_kafka_fatal: OK"
