#!/usr/bin/env bash
# The Debian package: builds rcfd with debhelper and CMake (dpkg-buildpackage -b -us -uc) from a
# copy of the source tree, installs the packages into a fresh root directory (dpkg-deb -x), runs
# the installed rcfd there, checks the installed unit with systemd-analyze verify and the package
# metadata with dpkg-deb. Slow: it builds everything once more.
#   usage: check_deb.sh SRC_DIR
set -euo pipefail
src=$(cd "${1:?source dir}" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rcfd-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
for tool in dpkg-buildpackage dh systemd-analyze; do
    command -v "$tool" >/dev/null || fail "$tool not found (scripts/setup.sh installs dpkg-dev, debhelper and systemd)"
done

# dpkg-buildpackage writes the packages beside the tree: build a copy, without build directories.
tree=$tmp/rcfd-0.1.0
mkdir -p "$tree"
commit=unknown
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    commit=$(git -C "$src" describe --always --dirty --abbrev=12 --match=NONE)
fi
(cd "$src" && tar --exclude='./build*' --exclude='./.git' --exclude='./debian/rcfd' \
    --exclude='./obj-*' -cf - .) | tar -xf - -C "$tree"
(cd "$tree" && RCFD_BUILD_COMMIT="$commit" DEB_BUILD_OPTIONS="nocheck parallel=2" \
    dpkg-buildpackage -b -us -uc > "$tmp/build.log" 2>&1) ||
    { tail -n 40 "$tmp/build.log"; fail "dpkg-buildpackage failed (log above)"; }

root=$tmp/root
mkdir -p "$root"
n=0
for deb in "$tmp"/*.deb; do
    case $deb in *-dbgsym_*) continue ;; esac
    dpkg-deb --info "$deb" > /dev/null || fail "$deb: bad package"
    dpkg-deb -x "$deb" "$root"
    n=$((n + 1))
done
[ "$n" -eq 3 ] || fail "expected 3 packages (rcfd, librcfd0, librcfd-dev), got $n: $(ls "$tmp"/*.deb)"
for f in usr/bin/rcfd usr/lib/systemd/system/rcfd.service usr/share/man/man1/rcfd.1.gz \
         usr/include/rcfd/rcf.h usr/share/doc/rcfd/README.md.gz; do
    [ -e "$root/$f" ] || fail "not in the packages: $f"
done
ls "$root"/usr/lib/*/librcfd.so.0 > /dev/null || fail "librcfd.so.0 not packaged"
pc=$(ls "$root"/usr/lib/*/pkgconfig/rcfd.pc)
grep -qx "prefix=/usr" "$pc" || fail "rcfd.pc: $(head -3 "$pc")"
grep -qx "ExecStart=/usr/bin/rcfd -c /etc/rcfd/rcfd.json" "$root/usr/lib/systemd/system/rcfd.service" ||
    fail "the packaged unit does not run /usr/bin/rcfd -c /etc/rcfd/rcfd.json"
version=$("$root/usr/bin/rcfd" --version) || fail "the installed rcfd does not run"
echo "installed: $version"
[[ "$version" == "rcfd 0.1.0 (commit $commit)" ]] || fail "version: $version (commit $commit)"
"$root/usr/bin/rcfd" --check-config -c "$root/usr/share/doc/rcfd/examples/sensors-kda.json" ||
    fail "the packaged example config does not check"
# The fresh root has no systemd of its own (sysinit.target, /bin/kill): verify the installed unit
# against the host's, with its binary path pointed into the root.
sed "s|/usr/bin/rcfd|$root/usr/bin/rcfd|g" "$root/usr/lib/systemd/system/rcfd.service" > "$tmp/rcfd.service"
systemd-analyze verify --man=no "$tmp/rcfd.service" || fail "systemd-analyze verify of the installed unit"
dpkg-deb --field "$(ls "$tmp"/rcfd_*.deb)" Depends | grep -q librdkafka ||
    fail "rcfd's Depends lacks librdkafka"
echo "debian package: OK ($n packages)"
