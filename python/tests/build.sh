#!/usr/bin/env bash
# Builds and installs the Python package offline into OUT/site (ctest's python_build fixture):
# a copy of python/ (so the source tree gets no build/ or egg-info, and parallel builds of the
# release and sanitizer trees do not share one), pip with --no-build-isolation --no-index, then an
# import check. With SANITIZE (e.g. address,undefined) the extension is built with -fsanitize=.
#   usage: build.sh PYTHON SOURCE_DIR OUT [SANITIZE]
set -euo pipefail
py=$1 src=$2 out=$3 san=${4:-}
rm -rf "$out"
mkdir -p "$out/pkg"
cp -r "$src/python/setup.py" "$src/python/README.md" "$src/python/rcfd" "$src/python/csrc" "$out/pkg/"
export RCFD_SOURCE_DIR=$src RCFD_SANITIZE=$san
"$py" -m pip install --no-build-isolation --no-index --no-deps --disable-pip-version-check \
    --target "$out/site" "$out/pkg" > "$out/pip.log" 2>&1 || { cat "$out/pip.log"; exit 1; }
[ -z "$san" ] || exit 0  # the sanitizer build imports under LD_PRELOAD (tests/python.cmake)
cd "$out" && PYTHONPATH=$out/site "$py" -c 'import rcfd; print("rcfd", rcfd.__version__, rcfd.__file__)'
