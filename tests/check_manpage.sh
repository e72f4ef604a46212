#!/usr/bin/env bash
# The man page is complete: every option that `--help` of rcfd and of each command prints is in
# docs/rcfd.1, as is every exit code the code defines (src/stream/runtime.h); every `--help` exits
# 0; and the page renders without groff warnings.
#   usage: check_manpage.sh RCFD SRC_DIR
set -euo pipefail
rcfd=${1:?rcfd binary}
src=${2:?source dir}
man=$src/docs/rcfd.1
bad=0
# roff writes - as \-; compare on the page with escapes removed
plain=$(sed 's/\\-/-/g; s/\\f[BIRP]//g' "$man")
for cmd in "" demo "demo --offline" dev-broker train backtest; do
    # shellcheck disable=SC2086
    out=$("$rcfd" $cmd --help) || { echo "rcfd $cmd --help exited $?"; bad=$((bad + 1)); continue; }
    for opt in $(grep -oE '(^|[ [(|,])--?[a-z][a-z-]*' <<<"$out" | sed 's/^[ [(|,]//' | sort -u); do
        [ "$opt" = "-" ] && continue
        if ! grep -qe "$opt" <<<"$plain"; then
            echo "rcfd $cmd --help prints $opt, docs/rcfd.1 does not"
            bad=$((bad + 1))
        fi
    done
done
for code in $(sed -n 's/.*RCFD_EXIT_[A-Z]* = \([0-9]*\).*/\1/p' "$src/src/stream/runtime.h"); do
    if ! grep -qx "\.B $code" "$man"; then
        echo "exit code $code (src/stream/runtime.h) is not under EXIT STATUS in docs/rcfd.1"
        bad=$((bad + 1))
    fi
done
for section in "EXIT STATUS" ENVIRONMENT FILES "SEE ALSO"; do
    grep -q "^\.SH $section" "$man" || { echo "docs/rcfd.1 has no $section section"; bad=$((bad + 1)); }
done
if command -v groff >/dev/null; then
    warn=$(groff -man -ww -z "$man" 2>&1)
    [ -z "$warn" ] || { echo "groff: $warn"; bad=$((bad + 1)); }
fi
[ "$bad" -eq 0 ] || { echo "$bad problems"; exit 1; }
echo "man page: every --help option and exit code documented"
