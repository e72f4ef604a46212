"""Builds the rcfd Python package: a CPython extension that compiles rcfd's own C sources.

Offline with Debian's packages (python3-dev, python3-numpy, python3-setuptools, python3-pip and
libcjson-dev):

    /usr/bin/python3 -m pip install --no-build-isolation ./python

The extension compiles the core libraries (src/common, src/rcf, src/hotspots: libc and libm)
and the model layer the daemon uses (src/score, src/models: the rcf model's recent means,
anomaly_novelty and snapshot, and the parameter table they are configured by, which needs
cJSON), so a Python forest is exactly the daemon's. Folders are globbed, not listed, so files
added to them are picked up; the few that need more than libc, libm and cJSON are excluded
below.

Environment:
    RCFD_SOURCE_DIR  the rcfd checkout to compile (default: the parent of this directory)
    RCFD_WERROR      0 to build without -Werror (default 1, as CMake's RCFD_WERROR)
    RCFD_SANITIZE    e.g. address,undefined: compile and link with -fsanitize= (tests only)
"""

import glob
import os
import re
import sys

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.environ.get("RCFD_SOURCE_DIR") or os.path.join(HERE, ".."))
SRC = os.path.join(ROOT, "src")

# The folders of src/ the extension compiles, lowest layer first (tests/check_layers.sh).
CORE_DIRS = ["common", "rcf", "hotspots", "score", "models"]
# Files in them that need more than libc, libm and cJSON.
EXCLUDE = {
    "hotspots/train_blas.c",  # hs_recompute_blas: OpenBLAS, part of rcfd_train
}


def core_sources():
    if not os.path.isfile(os.path.join(SRC, "models", "rcf.c")):
        sys.exit(
            "rcfd: no rcfd C sources at %s (src/models/rcf.c); build from an rcfd checkout "
            "or set RCFD_SOURCE_DIR" % ROOT
        )
    files = []
    for d in CORE_DIRS:
        for path in sorted(glob.glob(os.path.join(SRC, d, "*.c"))):
            if os.path.relpath(path, SRC) not in EXCLUDE:
                files.append(path)
    return files


def version():
    text = open(os.path.join(ROOT, "include", "rcfd", "version.h")).read()
    parts = [re.search(r"#define RCFD_VERSION_%s (\d+)" % k, text) for k in ("MAJOR", "MINOR", "PATCH")]
    if not all(parts):
        return "0"
    return ".".join(m.group(1) for m in parts)


def compile_args():
    # The project's warnings (CMakeLists.txt), C11 and hidden symbols.
    args = [
        "-std=c11",
        "-fvisibility=hidden",
        "-Wall",
        "-Wextra",
        "-Wshadow",
        "-Wformat=2",
        "-Wstrict-prototypes",
        "-Wmissing-prototypes",
        "-Wno-missing-field-initializers",
    ]
    if os.environ.get("RCFD_WERROR", "1") != "0":
        args.append("-Werror")
    san = os.environ.get("RCFD_SANITIZE")
    if san:
        args += ["-fsanitize=" + san, "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"]
    return args


def link_args():
    san = os.environ.get("RCFD_SANITIZE")
    return ["-fsanitize=" + san] if san else []


def numpy_include():
    import numpy

    return numpy.get_include()


ext = Extension(
    "rcfd._rcfd",
    sources=sorted(glob.glob(os.path.join(HERE, "csrc", "*.c"))) + core_sources(),
    include_dirs=[os.path.join(ROOT, "include"), SRC, numpy_include()],
    define_macros=[("_GNU_SOURCE", None)],
    libraries=["cjson", "m"],
    extra_compile_args=compile_args(),
    extra_link_args=link_args(),
)

setup(
    name="rcfd",
    version=version(),
    description="rcfd's streaming Random Cut Forest and HOTSPOTS for Python (numpy)",
    long_description=open(os.path.join(HERE, "README.md")).read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.9",
    install_requires=["numpy"],
    packages=["rcfd"],
    package_data={"rcfd": ["py.typed", "*.pyi"]},
    ext_modules=[ext],
    zip_safe=False,
)
