#!/usr/bin/env bash
# Build fastloss with AddressSanitizer + UndefinedBehaviorSanitizer (-DFASTLOSS_SANITIZE=ON: the
# C kernels and the Cython extension, compile and link flags) in a fresh virtual environment and
# run the default test suite against that build.
#
#   tools/check_sanitizers.sh            # default suite (-m 'not slow')
#   tools/check_sanitizers.sh -k fuzz    # extra arguments go to pytest
#
# The interpreter is not instrumented, so libasan is LD_PRELOADed; detect_leaks=0 because CPython
# leaks by design at exit. Any ASan report aborts the run, and so does any UBSan finding
# (halt_on_error=1, and the build uses -fno-sanitize-recover=undefined).
source "$(dirname "$0")/_common.sh"
CC="${CC:-gcc}"
ASAN_LIB="$("$CC" -print-file-name=libasan.so)"
[[ -f "$ASAN_LIB" ]] || { echo "libasan.so not found for $CC" >&2; exit 2; }

say "fresh environment with the build dependencies"
spy="$(new_venv san-venv)"
"$spy" -m pip install --quiet "scikit-build-core>=0.11" "cython>=3.1" "cython-cmake>=0.2" \
  numpy pytest hypothesis scipy

say "pip install --no-build-isolation . -Ccmake.define.FASTLOSS_SANITIZE=ON"
"$spy" -m pip install --quiet --no-build-isolation "$REPO" \
  -Ccmake.define.FASTLOSS_SANITIZE=ON -Cbuild-dir="$WORK/cmake-build"
grep -h "^FASTLOSS_SANITIZE" "$WORK"/cmake-build/CMakeCache.txt
so="$("$spy" -c 'import glob, os, sysconfig; print(glob.glob(os.path.join(sysconfig.get_paths()["purelib"], "fastloss", "_kernels*.so"))[0])' 2>/dev/null)"
ldd "$so" | grep -E "asan|ubsan" || { echo "the extension is not linked against the sanitizers" >&2; exit 1; }

say "test suite under ASan + UBSan ($ASAN_LIB)"
rundir="$WORK/run"; mkdir -p "$rundir"; log="$WORK/pytest.log"
set +e
(cd "$rundir" && \
 LD_PRELOAD="$ASAN_LIB" \
 ASAN_OPTIONS="detect_leaks=0:abort_on_error=1" \
 UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
 "$spy" -m pytest "$REPO/tests" -p no:cacheprovider -q "$@") 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
summary="$(grep -E '(passed|failed|error|no tests ran)' "$log" | tail -n 1 | tr -d '=' | sed 's/^ *//;s/ *$//')"
findings="$(grep -cE 'ERROR: AddressSanitizer|runtime error:' "$log" || true)"

say "summary"
echo "build:  FASTLOSS_SANITIZE=ON (-fsanitize=address,undefined)"
echo "sanitizer reports: $findings"
echo "tests:  $summary (exit $rc)"
exit "$rc"
