#!/usr/bin/env bash
# Build the sdist, check its file list (everything needed to build and test, nothing else),
# then install it into a fresh virtual environment (build isolation, everything from the
# package index) and run the tests shipped inside the sdist against the installed package.
#
#   tools/check_sdist.sh            -> dist/fastloss-<version>.tar.gz
source "$(dirname "$0")/_common.sh"
DIST="${DIST:-$REPO/dist}"

say "build environment"
bpy="$(new_venv build-venv)"
"$bpy" -m pip install --quiet build

say "building the sdist"
"$bpy" -m build --sdist --outdir "$WORK/dist" "$REPO"
sdist="$(ls "$WORK"/dist/fastloss-*.tar.gz)"
mkdir -p "$DIST"
rm -f "$DIST"/fastloss-*.tar.gz
cp "$sdist" "$DIST/"
sdist="$DIST/$(basename "$sdist")"

say "contents (tar tzf)"
tar tzf "$sdist" | sort | tee "$WORK/contents.txt"
"$bpy" - "$WORK/contents.txt" <<'PY'
import re, sys
names = [n.rstrip("/") for n in open(sys.argv[1]).read().split()]
root = names[0].split("/")[0]
rel = sorted({n[len(root) + 1:] for n in names if n.startswith(root + "/")})
need = ["pyproject.toml", "CMakeLists.txt", "README.md", "LICENSE", "CHANGELOG.md", "PKG-INFO",
        "csrc/fastloss.h", "csrc/CMakeLists.txt", "src/fastloss/__init__.py", "src/fastloss/_kernels.pyx",
        "src/fastloss/py.typed", "src/fastloss/__init__.pyi", "src/fastloss/_kernels.pyi",
        "src/fastloss/_kernels.pxd", "src/fastloss/regression.pyi",
        "tests/conftest.py", "tests/test_losses.py", "tests/typing_example.py"]
missing = [n for n in need if n not in rel]
assert not missing, f"missing from the sdist: {missing}"
assert any(n.startswith("csrc/") and n.endswith(".c") for n in rel), "no C sources"
# Anything outside this allow-list is junk: build outputs, caches, CI and worktree files.
allowed = re.compile(r"^(pyproject\.toml|CMakeLists\.txt|README\.md|LICENSE|CHANGELOG\.md|PKG-INFO"
                     r"|csrc(/([^/]+\.(c|h)|CMakeLists\.txt))?|src|src/fastloss(/examples)?(/[^/]+\.(py|pyi|pyx|pxd|typed))?"
                     r"|tests(/[^/]+\.py)?|benchmarks(/.*\.(py|md))?|examples(/.*\.(py|md))?|docs(/.*)?)$")
junk = [n for n in rel if n and not allowed.match(n)]
assert not junk, f"unexpected files in the sdist: {junk}"
bad = [n for n in rel if re.search(r"(^|/)(build|dist|wheelhouse|__pycache__|\.git|\.ci|tools)(/|$)|\.(so|o|whl)$", n)]
assert not bad, f"junk in the sdist: {bad}"
print(f"sdist file list OK: {len(rel)} entries under {root}/")
PY

say "fresh environment: install from the sdist (compiles it) with the test extra"
tpy="$(new_venv test-venv)"
"$tpy" -m pip install --quiet "$sdist[test]"
"$tpy" -m pip list 2>/dev/null | grep -iE '^(fastloss|numpy|scipy|hypothesis|pytest) '

say "tests shipped in the sdist, against the installed package"
mkdir -p "$WORK/unpacked"
tar xzf "$sdist" -C "$WORK/unpacked"
tests="$(ls -d "$WORK"/unpacked/fastloss-*/tests)"
run_suite "$tpy" "$tests" "sdist tests"

say "summary"
echo "sdist: $sdist ($(wc -l < "$WORK/contents.txt") entries)"
echo "tests: $SUITE_SUMMARY"
exit "$SUITE_RC"
