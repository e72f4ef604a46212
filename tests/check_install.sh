#!/usr/bin/env bash
# Installs the build into a temporary prefix with `cmake --install --prefix`, checks that rcfd.pc,
# the systemd unit and the man page name that prefix, builds the README's library example and a
# small program against the installed library through plain pkg-config (as a user would, no
# --define-prefix) and runs it, and checks the installed unit with systemd-analyze.
#   usage: check_install.sh BUILD_DIR [SANITIZERS]
#   SANITIZERS: the build's RCFD_SANITIZE; the test program must use the same runtime.
set -euo pipefail
build=${1:?build dir}
sanitize=${2:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rcfd-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null

for f in bin/rcfd include/rcfd/rcf.h include/rcfd/hotspots.h share/man/man1/rcfd.1 \
         lib/systemd/system/rcfd.service share/doc/rcfd/examples/sensors-kda.json \
         share/doc/rcfd/README.md share/doc/rcfd/daemon.md share/doc/rcfd/operations.md \
         share/doc/rcfd/backtest.md; do
    [ -e "$prefix/$f" ] || { echo "not installed: $f"; exit 1; }
done
pc=$(find "$prefix" -name rcfd.pc | head -1)
[ -n "$pc" ] || { echo "rcfd.pc not installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
# The paths the install wrote come from --prefix, not from the configure-time prefix.
grep -qx "prefix=$prefix" "$pc" || { echo "rcfd.pc does not name $prefix:"; cat "$pc"; exit 1; }
unit=$prefix/lib/systemd/system/rcfd.service
grep -qx "ExecStart=$prefix/bin/rcfd -c $prefix/etc/rcfd/rcfd.json" "$unit" ||
    { echo "the unit does not run $prefix/bin/rcfd:"; grep Exec "$unit"; exit 1; }
grep -q "$prefix/etc/rcfd/rcfd.json" "$prefix/share/man/man1/rcfd.1" &&
    grep -q "$prefix/share/doc/rcfd" "$prefix/share/man/man1/rcfd.1" ||
    { echo "the man page does not name the installed paths"; exit 1; }
# shellcheck disable=SC2046
[ "$(pkg-config --variable=includedir rcfd)" = "$prefix/include" ] || { echo "includedir"; exit 1; }

# The README's library example, verbatim, inside a main() (it uses `values` and exit()).
src=$(dirname "$0")/..
awk '/^```c$/{on=1; next} /^```$/{on=0} on' "$src/README.md" > "$tmp/readme_snippet.c"
[ -s "$tmp/readme_snippet.c" ] || { echo "README.md has no \`\`\`c block"; exit 1; }
{
    printf '#include <stdio.h>\n#include <stdlib.h>\n#include <rcfd/rcf.h>\n'
    printf 'int main(void)\n{\n    double values[3] = {1.0, 2.0, 3.0};\n'
    cat "$tmp/readme_snippet.c"
    printf '    printf("README example: score %%.3f\\n", r.score);\n    return 0;\n}\n'
} > "$tmp/readme.c"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror ${sanitize:+-fsanitize=$sanitize} -o "$tmp/readme" "$tmp/readme.c" \
    $(pkg-config --cflags --libs rcfd) -lm
LD_LIBRARY_PATH=$(pkg-config --variable=libdir rcfd) "$tmp/readme"

# A consumer of the library: a sine with one spike; the spike must get the top score.
cat > "$tmp/score.c" <<'C'
#include <math.h>
#include <stdio.h>
#include <rcfd/rcf.h>
int main(void)
{
    rcf_params_t p = rcf_params_default(1);
    p.number_of_trees = 30;
    rcf_forest_t *f;
    char err[256];
    if (rcf_forest_new(&p, &f, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int top = -1;
    double best = 0.0;
    for (int i = 0; i < 3000; i++) {
        double v = sin(i * 0.1) + (i == 2500 ? 5.0 : 0.0);
        rcf_result_t r;
        if (rcf_forest_process(f, &v, 1, &r) != 0) {
            return 1;
        }
        if (r.score > best) {
            best = r.score;
            top = i;
        }
    }
    rcf_forest_destroy(f);
    printf("rcfd %s: top score %.3f at record %d\n", rcfd_version(), best, top);
    return top == 2500 ? 0 : 1;
}
C
# shellcheck disable=SC2046
cc -std=c11 ${sanitize:+-fsanitize=$sanitize} -o "$tmp/score" "$tmp/score.c" \
    $(pkg-config --cflags --libs rcfd) -lm
libdir=$(pkg-config --variable=libdir rcfd)
LD_LIBRARY_PATH=$libdir "$tmp/score"
# Only the API is exported from the shared library.
if nm -D --defined-only "$libdir/librcfd.so" | awk '{print $3}' | grep -v -E '^(rcf_|hs_|rcfd_|_init$|_fini$)'; then
    echo "librcfd.so exports symbols outside the rcf_/hs_/rcfd_ API (listed above)"
    exit 1
fi

# The unit as installed (it names the installed binary) must pass systemd's own checks; the man
# page must render without warnings.
if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify --man=no "$unit"
    echo "systemd-analyze verify: ok"
else
    echo "systemd-analyze not found"; exit 1
fi
if command -v groff >/dev/null; then
    warn=$(groff -man -ww -z "$prefix/share/man/man1/rcfd.1" 2>&1)
    [ -z "$warn" ] || { echo "man page: $warn"; exit 1; }
fi
echo "install check passed"
