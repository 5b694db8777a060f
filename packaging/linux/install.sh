#!/usr/bin/env bash
# Install an unpacked ScanClean bundle for the current user (no root needed):
#   the app in ~/.local/opt/scanclean, a `scanclean` link in ~/.local/bin,
#   the desktop entry and the icon in ~/.local/share.
# Run it from the unpacked tarball: `scanclean/install.sh` (or `--uninstall`).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PREFIX="${PREFIX:-$HOME/.local}"
APPDIR="$PREFIX/opt/scanclean"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"

if [[ "${1:-}" == "--uninstall" ]]; then
    rm -rf "$APPDIR" "$PREFIX/bin/scanclean" "$DATA/applications/scanclean.desktop" \
        "$DATA/icons/hicolor/256x256/apps/scanclean.png" \
        "$DATA/icons/hicolor/scalable/apps/scanclean.svg"
    echo "ScanClean removed from $PREFIX"
    exit 0
fi

if [[ ! -x "$HERE/scanclean" ]]; then
    echo "install.sh: $HERE/scanclean not found; run this script from the unpacked bundle" >&2
    exit 1
fi
if [[ "$HERE" != "$APPDIR" ]]; then
    mkdir -p "$PREFIX/opt"
    rm -rf "$APPDIR.new"
    cp -a "$HERE" "$APPDIR.new"
    rm -rf "$APPDIR"
    mv "$APPDIR.new" "$APPDIR"
fi
mkdir -p "$PREFIX/bin" "$DATA/applications" "$DATA/icons/hicolor/256x256/apps" \
    "$DATA/icons/hicolor/scalable/apps"
ln -sf "$APPDIR/scanclean" "$PREFIX/bin/scanclean"
install -m 644 "$APPDIR/share/scanclean.png" "$DATA/icons/hicolor/256x256/apps/scanclean.png"
install -m 644 "$APPDIR/share/scanclean.svg" "$DATA/icons/hicolor/scalable/apps/scanclean.svg"
sed "s|^Exec=scanclean|Exec=$APPDIR/scanclean|; s|^TryExec=scanclean|TryExec=$APPDIR/scanclean|" \
    "$APPDIR/share/scanclean.desktop" > "$DATA/applications/scanclean.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$DATA/applications" || true
echo "ScanClean installed in $APPDIR; start it from the menu or with $PREFIX/bin/scanclean"
