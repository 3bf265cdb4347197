#!/bin/bash -e
# pi-gen: install Hymy into the image with the same installer a technician runs on a Pi
# (image/install.sh), from an offline wheelhouse so the image build is reproducible.
#
# HYMY_SRC: a Hymy checkout (default: three levels up from this file).
# HYMY_WHEELHOUSE: a directory of arm64 wheels, hymy-*.whl plus every dependency (docs/deploy.md,
#                  "Building the image", shows the pip commands). Without it pip uses the package index.
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HYMY_SRC="${HYMY_SRC:-$(cd "$HERE/../../../.." && pwd)}"
DEST="${ROOTFS_DIR}/tmp/hymy-src"

rm -rf "$DEST"
mkdir -p "$DEST"
cp -r "$HYMY_SRC/image" "$HYMY_SRC/systemd" "$DEST/"
if [ -n "${HYMY_WHEELHOUSE:-}" ]; then
    cp -r "$HYMY_WHEELHOUSE" "$DEST/wheels"
    ARGS="--wheelhouse /tmp/hymy-src/wheels"
else
    mkdir -p "$DEST/source"
    tar -C "$HYMY_SRC" --exclude=./.venv --exclude=./build --exclude=./.git -cf - . | tar -C "$DEST/source" -xf -
    ARGS="--source /tmp/hymy-src/source"
fi

on_chroot <<CHROOT
bash /tmp/hymy-src/image/install.sh $ARGS
CHROOT

# Documentation for the technician, next to the provisioning example on the boot partition.
install -m 644 "$HYMY_SRC/image/hymy.toml.example" "${ROOTFS_DIR}/boot/firmware/hymy.toml.example"
install -d "${ROOTFS_DIR}/usr/share/doc/hymy"
install -m 644 "$HYMY_SRC/docs/deploy.md" "${ROOTFS_DIR}/usr/share/doc/hymy/deploy.md"
rm -rf "$DEST"
