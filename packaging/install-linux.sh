#!/usr/bin/env bash
# Install the MedSeg folder this script sits in (the desktop bundle, dist/MedSeg/) for the current user: the
# menu entry (medseg.desktop), the icons, the NIfTI / NRRD / MetaImage file types and a `MedSeg` command in
# ~/.local/bin. The folder itself stays where it is: move it first (e.g. to ~/.local/opt/MedSeg or /opt/MedSeg).
#
# Usage: ./install.sh [--prefix DIR] [--uninstall]     (DIR: ~/.local by default; /usr/local as root for everyone)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix="${XDG_DATA_HOME:+$(dirname "$XDG_DATA_HOME")}"
prefix="${prefix:-$HOME/.local}"
uninstall=0
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --uninstall) uninstall=1; shift ;;
        -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
resources="$here/_internal/resources"
[ -x "$here/MedSeg" ] && [ -d "$resources" ] || { echo "install.sh: run the copy inside the MedSeg folder" >&2; exit 2; }

apps="$prefix/share/applications"
icons="$prefix/share/icons/hicolor"
mime="$prefix/share/mime"
files=("$apps/medseg.desktop" "$mime/packages/medseg.xml" "$prefix/bin/MedSeg" "$icons/scalable/apps/medseg.svg")
for size in 48 128 256; do files+=("$icons/${size}x${size}/apps/medseg.png"); done

refresh() {
    command -v update-desktop-database >/dev/null && update-desktop-database -q "$apps" || true
    command -v update-mime-database >/dev/null && update-mime-database "$mime" || true
    command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t -f "$icons" || true
}

if [ "$uninstall" = 1 ]; then
    rm -f "${files[@]}"
    refresh
    echo "MedSeg's menu entry, icons and file types removed from $prefix (the folder $here stays)."
    exit 0
fi

mkdir -p "$apps" "$mime/packages" "$prefix/bin" "$icons/scalable/apps"
# The menu entry runs this folder's executable (quoted: the path may hold spaces).
sed -e "s|^Exec=MedSeg|Exec=\"$here/MedSeg\"|" -e "s|^TryExec=MedSeg|TryExec=$here/MedSeg|" \
    "$resources/medseg.desktop" > "$apps/medseg.desktop"
cp "$resources/icons/medseg.svg" "$icons/scalable/apps/medseg.svg"
for size in 48 128 256; do
    mkdir -p "$icons/${size}x${size}/apps"
    cp "$resources/icons/medseg-$size.png" "$icons/${size}x${size}/apps/medseg.png"
done
cp "$resources/medseg-mime.xml" "$mime/packages/medseg.xml"
ln -sfn "$here/MedSeg" "$prefix/bin/MedSeg"
refresh
echo "MedSeg installed for the menu ($apps/medseg.desktop) and as $prefix/bin/MedSeg -> $here/MedSeg."
