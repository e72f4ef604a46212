#!/usr/bin/env bash
# Webhook TLS options against an HTTPS server on 127.0.0.1 with a self-signed certificate (made
# here with openssl): with ca_file naming it, records are delivered; with the system CAs
# (tls_verify on, no ca_file) verification fails, nothing is delivered and the failure is retried
# as a transport error (SIGTERM then exits 75: records left unaccepted); with tls_verify off they
# are delivered.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sk_lib.sh"

openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
    -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2> openssl.log
gen_file in.jsonl 50 3
start_http srv --tls-cert cert.pem --tls-key key.pem
wait_listening srv 10
conf() { # NAME EXTRA
    cat > "$1.json" <<JSON
{"log": {"level": "info"}, "runtime": {"stats_interval_ms": 0, "shutdown_timeout_ms": 500},
 "sources": [{"name": "s", "type": "file", "path": "in.jsonl"}],
 "outputs": [{"name": "hook", "type": "webhook", "url": "https://127.0.0.1:$HTTP_PORT/",
              "batch_max_records": 10, "retry_initial_ms": 50, "retry_max_ms": 200 $2}],
 "pipelines": [{"name": "p", "source": "s", "fields": ["v"], "key": "k", "outputs": ["hook"],
                "models": [{"type": "rcf", "number_of_trees": 5, "sub_sample_size": 16}]}]}
JSON
}
records() { python3 -c 'import json;print(json.load(open("srv/stats.json"))["records"])'; }

conf ca ', "ca_file": "cert.pem"'
"$RCFD" -c ca.json 2> ca.log || fail "ca_file: exit $?"
[ "$(records)" -eq 50 ] || fail "ca_file: $(records) records delivered"

conf sys ''
start_rcfd sys -c sys.json
for _ in $(seq 100); do grep -q "send failed; retrying" sys.log && break; sleep 0.1; done
sleep 1
stop_rcfd TERM
[ "$RCFD_RC" -eq 75 ] || fail "unverified server: exit $RCFD_RC, expected 75"
grep -Eqi "certificate|SSL" sys.log || fail "no TLS verification error logged"
[ "$(records)" -eq 50 ] || fail "records delivered to an unverified server"

conf noverify ', "tls_verify": false'
"$RCFD" -c noverify.json 2> noverify.log || fail "tls_verify false: exit $?"
[ "$(records)" -eq 100 ] || fail "tls_verify false: $(records) records in total"
echo "sk_tls: OK"
