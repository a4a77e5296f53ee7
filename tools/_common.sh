# Shared helpers for the tools/*.sh distribution checks (sourced, not run).
# Each check works in a private temporary directory ($WORK, removed on exit unless KEEP_WORK=1),
# builds with a private CMake build dir (the developer's build/ is never touched) and installs
# into fresh virtual environments that see only what pip installs from the package index.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/fastloss-dist.XXXXXX")"
if [[ "${KEEP_WORK:-0}" != 1 ]]; then
  trap 'rm -rf "$WORK"' EXIT
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf '\n=== %s\n' "$*"; }

# new_venv NAME: a fresh virtual environment (no system site-packages); prints its python.
new_venv() {
  "$PY" -m venv "$WORK/$1" >&2
  "$WORK/$1/bin/python" -m pip install --quiet --upgrade pip >&2
  echo "$WORK/$1/bin/python"
}

# run_suite PYTHON TESTS_DIR LABEL: run the test suite against the fastloss installed in PYTHON's
# environment, from an empty directory (so no source tree is importable). Prints the pytest
# summary line as "LABEL: <summary>" and sets SUITE_RC / SUITE_SUMMARY.
run_suite() {
  local python="$1" tests="$2" label="$3" rundir log
  rundir="$(mktemp -d "$WORK/run.XXXX")"
  log="$rundir.log"
  (
    cd "$rundir"
    "$python" - "$REPO" <<'PY'
import os, sys
import fastloss
where = os.path.realpath(fastloss.__file__)
print("fastloss", fastloss.__version__, "imported from", where)
assert not where.startswith(os.path.realpath(sys.argv[1]) + os.sep), "tests would run on the source tree"
PY
  ) || { SUITE_RC=1; SUITE_SUMMARY="fastloss not importable from the installed package"; return 0; }
  set +e
  (cd "$rundir" && "$python" -m pytest "$tests" -p no:cacheprovider) 2>&1 | tee "$log"
  SUITE_RC=${PIPESTATUS[0]}
  set -e
  SUITE_SUMMARY="$(grep -E '(passed|failed|error|no tests ran)' "$log" | tail -n 1 | tr -d '=' | sed 's/^ *//;s/ *$//')"
  echo "$label: $SUITE_SUMMARY (exit $SUITE_RC)"
}
