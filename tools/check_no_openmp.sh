#!/usr/bin/env bash
# Build and install fastloss with OpenMP switched off (-Ccmake.define.FASTLOSS_OPENMP=OFF) into
# a fresh virtual environment, check that show_config() and the extension say so, and run the
# whole test suite (single-threaded kernels) against that install.
#
#   tools/check_no_openmp.sh
# The same build by hand: pip install . -Ccmake.define.FASTLOSS_OPENMP=OFF
source "$(dirname "$0")/_common.sh"

say "fresh environment: pip install .[test] with FASTLOSS_OPENMP=OFF"
tpy="$(new_venv test-venv)"
"$tpy" -m pip install --quiet "$REPO[test]" \
  -Ccmake.define.FASTLOSS_OPENMP=OFF -Cbuild-dir="$WORK/cmake-build"
grep -h "^FASTLOSS_OPENMP" "$WORK"/cmake-build/CMakeCache.txt || true

say "the build reports no OpenMP"
(cd "$WORK" && "$tpy" - <<'PY'
import glob, os, subprocess
import fastloss
info = fastloss.show_config()
assert info["openmp"] is False, info
so = glob.glob(os.path.join(os.path.dirname(fastloss.__file__), "_kernels*"))
so = [p for p in so if not p.endswith(".pyi")]
deps = subprocess.run(["ldd", so[0]], capture_output=True, text=True).stdout
assert "gomp" not in deps and "libomp" not in deps, deps
print("no OpenMP runtime linked into", os.path.basename(so[0]))
PY
)

say "test suite against the no-OpenMP install"
run_suite "$tpy" "$REPO/tests" "no-OpenMP tests"

say "summary"
echo "openmp: False (show_config), no OpenMP runtime linked"
echo "tests:  $SUITE_SUMMARY"
exit "$SUITE_RC"
