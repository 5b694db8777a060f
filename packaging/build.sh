#!/usr/bin/env bash
# Build, check and pack the ScanClean desktop bundle (Linux).
#
#   bash packaging/build.sh          # from anywhere; works in the repository root
#
# 1. pyinstaller --noconfirm packaging/scanclean.spec  -> dist/scanclean/scanclean
# 2. checks the bundle: no TensorFlow/Keras/tf2onnx/trainer/tests inside, size <= 350 MiB
# 3. dist/scanclean/scanclean --self-test (cleans a generated page with the bundled model)
# 4. dist/scanclean/scanclean --batch ... on generated pages; its output files must be
#    byte-identical to those of `scanclean-batch` from the installed package
# 5. adds the desktop entry, icon and install.sh, packs
#    dist/scanclean-<version>-linux-<arch>.tar.gz
#
# Needs the package installed (`pip install -e ".[dev]"`: PyInstaller, scanclean-batch).
# Environment: PYTHON (default: python), MAX_BUNDLE_MIB (default: 350).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python}"
MAX_BUNDLE_MIB="${MAX_BUNDLE_MIB:-350}"
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
BUNDLE="dist/scanclean"
EXE="$BUNDLE/scanclean"

step_start=0
step() {
    step_start=$SECONDS
    echo
    echo "=== build.sh: $* ==="
}
step_done() {
    echo "--- done in $((SECONDS - step_start)) s"
}
fail() {
    echo "build.sh: FAILED: $*" >&2
    exit 1
}

VERSION="$("$PYTHON" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
ARCH="$(uname -m)"
TARBALL="dist/scanclean-$VERSION-linux-$ARCH.tar.gz"
echo "ScanClean $VERSION bundle for linux-$ARCH, from $ROOT"

# --- 1. build -------------------------------------------------------------------------------
step "pyinstaller"
ls models/*.onnx >/dev/null 2>&1 || echo "build.sh: warning: no models/*.onnx; the self-test will fail"
"$PYTHON" -m PyInstaller --noconfirm --log-level WARN packaging/scanclean.spec
BUILD_SECONDS=$((SECONDS - step_start))
[[ -x "$EXE" ]] || fail "$EXE was not built"
step_done

# --- 2. contents ----------------------------------------------------------------------------
step "bundle contents"
forbidden="$(find "$BUNDLE" \( -iname '*tensorflow*' -o -iname '*keras*' -o -iname '*tf2onnx*' \
    -o -iname 'scanclean_train*' -o -path '*/_internal/tests' -o -path '*/_internal/onnx' \) -print)"
[[ -z "$forbidden" ]] || fail "the bundle contains training or test code: $forbidden"
for model in models/*.onnx; do
    [[ -e "$model" ]] || continue
    [[ -f "$BUNDLE/_internal/scanclean/models/$(basename "$model")" ]] \
        || fail "$model is not in the bundle"
done
BUNDLE_MIB="$(du -sm "$BUNDLE" | cut -f1)"
echo "bundle size: $(du -sh "$BUNDLE" | cut -f1) ($BUNDLE_MIB MiB, limit $MAX_BUNDLE_MIB MiB)"
((BUNDLE_MIB <= MAX_BUNDLE_MIB)) || fail "bundle is $BUNDLE_MIB MiB, over $MAX_BUNDLE_MIB MiB"
step_done

# --- 3. self-test ---------------------------------------------------------------------------
step "self-test (QT_QPA_PLATFORM=$QT_QPA_PLATFORM)"
"$EXE" --self-test </dev/null || fail "$EXE --self-test exited with $?"
step_done

# --- 4. --batch against the installed package -----------------------------------------------
step "--batch vs scanclean-batch"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/scanclean-build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/in" "$WORK/out-bundle" "$WORK/out-package"
"$PYTHON" - "$WORK/in" <<'EOF'
"""Write generated dirty pages: a 300 dpi PNG and a two-page TIFF."""
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from scanclean.selftest import make_test_page

folder = Path(sys.argv[1])
pages = [make_test_page((400, 700), seed=1).dirty, make_test_page((320, 640), seed=2).dirty]
images = [Image.fromarray(np.round(page * 255).astype(np.uint8)) for page in pages]
images[0].save(folder / "letter.png", dpi=(300, 300))
images[0].save(folder / "report.tif", save_all=True, append_images=images[1:], dpi=(300, 300))
print(f"generated {', '.join(sorted(p.name for p in folder.iterdir()))}")
EOF
if command -v scanclean-batch >/dev/null 2>&1; then
    PACKAGE_BATCH=(scanclean-batch)
else
    PACKAGE_BATCH=("$PYTHON" -c 'import sys; from scanclean.cli import main; sys.exit(main())')
fi
"$EXE" --batch "$WORK/in/letter.png" "$WORK/in/report.tif" -o "$WORK/out-bundle" --quiet </dev/null \
    || fail "$EXE --batch exited with $?"
"${PACKAGE_BATCH[@]}" "$WORK/in/letter.png" "$WORK/in/report.tif" -o "$WORK/out-package" --quiet </dev/null \
    || fail "scanclean-batch exited with $?"
(cd "$WORK/out-bundle" && find . -type f | sort) >"$WORK/list-bundle"
(cd "$WORK/out-package" && find . -type f | sort) >"$WORK/list-package"
[[ -s "$WORK/list-bundle" ]] || fail "--batch wrote no files"
diff "$WORK/list-bundle" "$WORK/list-package" || fail "--batch and scanclean-batch wrote different files"
while read -r name; do
    cmp "$WORK/out-bundle/$name" "$WORK/out-package/$name" \
        || fail "$name differs between --batch and scanclean-batch"
    echo "identical: $name ($(sha256sum "$WORK/out-bundle/$name" | cut -c1-16))"
done <"$WORK/list-bundle"
step_done

# --- 5. pack --------------------------------------------------------------------------------
step "pack $TARBALL"
mkdir -p "$BUNDLE/share"
cp packaging/linux/scanclean.desktop packaging/linux/scanclean.png packaging/linux/scanclean.svg \
    "$BUNDLE/share/"
cp packaging/linux/install.sh "$BUNDLE/install.sh"
chmod +x "$BUNDLE/install.sh"
rm -f "$TARBALL"
tar -C dist -czf "$TARBALL.tmp" scanclean
mv "$TARBALL.tmp" "$TARBALL"
step_done

echo
echo "build.sh: OK: $TARBALL ($(du -sh "$TARBALL" | cut -f1)); bundle $BUNDLE_MIB MiB," \
    "pyinstaller $BUILD_SECONDS s, total $SECONDS s"
