# Kinesis tests' peer: kinesalite 3.3.3 from npm, installed once into the build tree
# ($KINESALITE_DIR) and started by tests/support/kinesis_tool.js on 127.0.0.1 only. When npm
# cannot reach its registry the test is skipped (exit 77) with the reason; any other failure fails.
: "${KINESALITE_DIR:?}"
KTOOL="$SRC_DIR/tests/support/kinesis_tool.js"

ensure_kinesalite() {
    command -v node > /dev/null && command -v npm > /dev/null ||
        { echo "SKIP: node and npm are not installed (scripts/setup.sh installs them)"; exit 77; }
    mkdir -p "$KINESALITE_DIR"
    (
        flock 9
        [ -f "$KINESALITE_DIR/node_modules/kinesalite/package.json" ] && exit 0
        if ! timeout 300 npm install --prefix "$KINESALITE_DIR" --no-audit --no-fund --loglevel=error \
                kinesalite@3.3.3 > "$KINESALITE_DIR/npm.log" 2>&1; then
            if ! timeout 30 npm ping > /dev/null 2>&1; then
                echo "SKIP: npm cannot reach its registry, so kinesalite cannot be installed"
                exit 77
            fi
            cat "$KINESALITE_DIR/npm.log" >&2
            exit 1
        fi
    ) 9> "$KINESALITE_DIR/.lock"
}

# start_kinesalite -> KPORT
start_kinesalite() {
    ensure_kinesalite || exit $?
    NODE_PATH="$KINESALITE_DIR/node_modules" setpriv --pdeathsig KILL node "$KTOOL" serve \
        > kinesalite.port 2> kinesalite.log &
    PIDS+=($!)
    for _ in $(seq 100); do
        [ -s kinesalite.port ] && break
        sleep 0.05
    done
    KPORT=$(head -n1 kinesalite.port)
    [ -n "$KPORT" ] || fail "kinesalite did not start: $(cat kinesalite.log)"
}

kin() { node "$KTOOL" "$KPORT" "$@"; }

# SigV4 needs keys; kinesalite checks the header's shape, not the signature.
export AWS_ACCESS_KEY_ID=rcfd-test AWS_SECRET_ACCESS_KEY=rcfd-test-secret
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE
