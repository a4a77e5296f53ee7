#!/usr/bin/env bash
# Install the repaired wheel (wheelhouse/, built by tools/build_wheel.sh when missing) into fresh
# virtual environments with the oldest and the newest supported NumPy, and run the test suite
# against each install. The oldest is the floor declared in pyproject.toml (numpy>=1.25).
#
#   tools/check_numpy_versions.sh                     oldest 1.25.0 and the newest release
#   NUMPY_SPECS="numpy==1.26.4 numpy==2.0.2" tools/check_numpy_versions.sh
source "$(dirname "$0")/_common.sh"
WHEELHOUSE="${WHEELHOUSE:-$REPO/wheelhouse}"
NUMPY_SPECS="${NUMPY_SPECS:-numpy==1.25.0 numpy}"

wheel="$(ls "$WHEELHOUSE"/fastloss-*.whl 2>/dev/null | head -n 1 || true)"
if [[ -z "$wheel" ]]; then
  say "no wheel in $WHEELHOUSE: building one"
  NO_TYPING=1 "$REPO/tools/build_wheel.sh"
  wheel="$(ls "$WHEELHOUSE"/fastloss-*.whl | head -n 1)"
fi
echo "wheel: $(basename "$wheel")"

rc=0
matrix=()
i=0
for spec in $NUMPY_SPECS; do
  i=$((i + 1))
  say "fresh environment: the wheel, the test extra and $spec"
  tpy="$(new_venv "np$i")"
  "$tpy" -m pip install --quiet "$wheel[test]" "$spec"
  versions="$("$tpy" -c 'import sys, numpy, scipy; print(f"python {sys.version.split()[0]}, numpy {numpy.__version__}, scipy {scipy.__version__}")')"
  echo "$versions"
  run_suite "$tpy" "$REPO/tests" "$spec"
  matrix+=("$versions: $SUITE_SUMMARY")
  [[ "$SUITE_RC" == 0 ]] || rc=1
done

say "summary"
printf '%s\n' "${matrix[@]}"
exit "$rc"
