#!/usr/bin/env bash
# The image check: build a Debian bookworm root with debootstrap, run image/install.sh in it (from a
# wheel built from this checkout), then check what a technician relies on: the user and its groups,
# files and permissions, enabled units, provisioning from a boot-partition file, enrolment (token
# file 0600), `hymy status` and `hymy hwtest --auto` inside the root, and that a second run of the
# installer changes nothing. Needs root, debootstrap and the Debian package mirror.
#
# A foreign architecture (arm64 on an amd64 host: `make image-check-arm64`, run by .ci/run too) runs
# under qemu-user-static, ten times slower, so it checks only what differs between architectures
# (scope "wheels"): the wheels of hymy[kiosk] for that architecture and the suite's Python are
# downloaded here first with pip (binary wheels only: a dependency without one fails the check at
# once), the installer installs them offline (--wheelhouse) in the root, and Kivy's and lgpio's
# compiled modules load, `hymy status` and `hymy hwtest --auto` run. Users, files, units, provisioning,
# enrolment and the second run are the same on every architecture: the native run (scope "full")
# checks them.
#
# Caches only under build/image-check/ (a base root tarball, pip's cache, the foreign wheelhouse).
#   HYMY_IMAGE_ARCH=amd64|arm64   (default: the host's)   HYMY_DEBIAN_MIRROR=URL (default: the host's)
#   HYMY_IMAGE_SUITE=bookworm|trixie   HYMY_IMAGE_SCOPE=full|wheels (default: full on the host's
#   architecture, wheels on another)   HYMY_IMAGE_KEEP=1 keeps the root afterwards for a look around
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$(pwd)"
ARCH="${HYMY_IMAGE_ARCH:-$(dpkg --print-architecture)}"
SUITE="${HYMY_IMAGE_SUITE:-bookworm}"
WORK="$REPO/build/image-check"
ROOT="$WORK/root-$SUITE-$ARCH"
PIPCACHE="$WORK/pip-cache"
LOGS="$WORK/logs-$SUITE-$ARCH"
NATIVE="$(dpkg --print-architecture)"
SCOPE="${HYMY_IMAGE_SCOPE:-$([ "$ARCH" = "$NATIVE" ] && echo full || echo wheels)}"
START=$(date +%s)
FAILED=0

[ "$(id -u)" -eq 0 ] || { echo "ci-check: needs root (chroot, mounts)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "ci-check: needs debootstrap (apt-get install debootstrap)" >&2; exit 2; }

mirror() {
    if [ -n "${HYMY_DEBIAN_MIRROR:-}" ]; then echo "$HYMY_DEBIAN_MIRROR"; return; fi
    # The host's own Debian mirror, so nothing here names one.
    local m
    m="$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -1 || true)"
    [ -n "$m" ] || m="$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -1 || true)"
    echo "$m"
}
MIRROR="$(mirror)"
[ -n "$MIRROR" ] || { echo "ci-check: no Debian mirror found; set HYMY_DEBIAN_MIRROR" >&2; exit 2; }

ok() { echo "  ok: $*"; }
bad() { echo "  FAIL: $*"; FAILED=$((FAILED + 1)); }
check() { local what="$1"; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
# pip in the root trusts what the host's pip trusts (a site's TLS-inspecting proxy has its own CA).
HOST_CA="${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}"
in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
    LANG=C.UTF-8 HOME=/root PIP_CACHE_DIR=/var/cache/hymy-pip PIP_CERT=/etc/hymy-ci-host-ca.crt \
    ${PIP_INDEX_URL:+PIP_INDEX_URL=$PIP_INDEX_URL} ${PIP_DEFAULT_TIMEOUT:+PIP_DEFAULT_TIMEOUT=$PIP_DEFAULT_TIMEOUT} "$@"; }
as_hymy() { in_root runuser -u hymy -- /usr/bin/env HYMY_CONFIG=/etc/hymy/kiosk.toml "$@"; }

MOUNTS=()
cleanup() {
    set +e
    local i
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTS[$i]}" 2>/dev/null; done
    [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null
    if [ -z "${HYMY_IMAGE_KEEP:-}" ]; then rm -rf "$ROOT"; fi
}
trap cleanup EXIT
bind() { mkdir -p "$ROOT$2"; mount --bind "$1" "$ROOT$2"; MOUNTS+=("$ROOT$2"); }

if [ "$ARCH" != "$NATIVE" ]; then
    # A foreign root (arm64 on amd64) runs through qemu-user-static's binfmt handler.
    QEMU_ARCH="$(case "$ARCH" in arm64) echo aarch64 ;; armhf) echo arm ;; *) echo "$ARCH" ;; esac)"
    if [ ! -e "/proc/sys/fs/binfmt_misc/qemu-$QEMU_ARCH" ]; then
        [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
        update-binfmts --enable "qemu-$QEMU_ARCH" \
            || { echo "ci-check: $ARCH needs qemu-user-static and binfmt-support" >&2; exit 2; }
    fi
fi

echo "== wheel from this checkout"
# build/lib: setuptools' scratch, which would carry a file of an older build into the wheel.
rm -rf build/wheels build/lib build/bdist.*
.venv/bin/pip wheel --no-deps -q -w build/wheels . 2>&1 | grep -v '^$' || true
WHEEL="$(ls build/wheels/hymy-*.whl)"
echo "  $WHEEL"
mkdir -p "$WORK" "$PIPCACHE" "$LOGS"
INSTALL_ARGS=(--wheel "/tmp/hymy-src/wheels/$(basename "$WHEEL")")

if [ "$SCOPE" = wheels ]; then
    # The suite's Python and glibc: a wheel must be tagged for them to install there.
    case "$SUITE" in
        bookworm) PYV=3.11; GLIBC=36 ;;
        trixie) PYV=3.13; GLIBC=41 ;;
        *) echo "ci-check: no Python/glibc versions known for $SUITE" >&2; exit 2 ;;
    esac
    MACHINE="$(case "$ARCH" in arm64) echo aarch64 ;; armhf) echo armv7l ;; amd64) echo x86_64 ;; *) echo "$ARCH" ;; esac)"
    PLATFORMS=()
    for v in $(seq 17 "$GLIBC"); do PLATFORMS+=(--platform "manylinux_2_${v}_$MACHINE"); done
    # lgpio (gpiozero's pin factory on a Pi 5 / Bookworm) publishes an aarch64 wheel for CPython 3.11 only;
    # on 3.13 Raspberry Pi OS's python3-lgpio is used (docs/hardware.md).
    LGPIO=""; [ "$MACHINE" = aarch64 ] && [ "$PYV" = 3.11 ] && LGPIO="lgpio>=0.2"  # 0.0.0.2 is an empty stub
    WHEELHOUSE="$WORK/wheelhouse-$SUITE-$ARCH"
    echo "== $ARCH wheels for Python $PYV: hymy[kiosk] ${LGPIO} (binary only; cached in $WHEELHOUSE)"
    T0=$(date +%s)
    mkdir -p "$WHEELHOUSE"; rm -f "$WHEELHOUSE"/hymy-*.whl
    .venv/bin/pip download --disable-pip-version-check --only-binary=:all: "${PLATFORMS[@]}" \
        --python-version "$PYV" --implementation cp --abi "cp${PYV/./}" -d "$WHEELHOUSE" \
        "$WHEEL[kiosk]" $LGPIO > "$LOGS/wheels.log" 2>&1 \
        || { grep -v "^WARNING: Location" "$LOGS/wheels.log" | tail -5 || true
             echo "ci-check: a dependency has no $ARCH ($MACHINE) wheel for CPython $PYV; a Pi would have to build it" >&2
             exit 1; }
    echo "  $(ls "$WHEELHOUSE" | wc -l) wheels, $(( $(date +%s) - T0 )) s"
    INSTALL_ARGS=(--wheelhouse /tmp/hymy-src/wheels)
fi

# systemd: systemctl, systemd-analyze and systemd-detect-virt, as on Raspberry Pi OS Lite. Scope wheels
# also puts the installer's own Debian packages in the base (its apt step is checked natively), so a
# cached base leaves the root to what differs: the release with its wheels.
BASE_PACKAGES=""
if [ "$SCOPE" = wheels ]; then
    BASE_PACKAGES="$(sed -n '/^PACKAGES="/,/"$/p' image/install.sh | tr -d '"' | sed 's/^PACKAGES=//' | xargs)"
fi
BASE="$WORK/base-$SUITE-$ARCH-$(echo "$BASE_PACKAGES" | md5sum | cut -c1-8).tar"
echo "== $SUITE $ARCH root (debootstrap, cached as $BASE)"
if [ ! -f "$BASE" ]; then
    rm -rf "$ROOT.tmp"
    T0=$(date +%s)
    # Two stages, so that dpkg in the root skips its fsync calls (force-unsafe-io): a throwaway root needs
    # no crash safety, and under qemu those calls cost minutes. What gets installed is the same.
    { debootstrap --foreign --variant=minbase --arch="$ARCH" --include=systemd,systemd-sysv,udev \
          "$SUITE" "$ROOT.tmp" "$MIRROR" \
        && mkdir -p "$ROOT.tmp/etc/dpkg/dpkg.cfg.d" \
        && echo force-unsafe-io > "$ROOT.tmp/etc/dpkg/dpkg.cfg.d/hymy-ci-unsafe-io" \
        && chroot "$ROOT.tmp" /debootstrap/debootstrap --second-stage; } > "$LOGS/debootstrap.log" 2>&1 \
        || { tail -20 "$LOGS/debootstrap.log"; exit 1; }
    if [ -n "$BASE_PACKAGES" ]; then
        cp /etc/resolv.conf "$ROOT.tmp/etc/resolv.conf"
        for m in /proc /sys /dev; do mount --bind "$m" "$ROOT.tmp$m"; MOUNTS+=("$ROOT.tmp$m"); done
        chroot "$ROOT.tmp" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
            sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends $BASE_PACKAGES && apt-get clean" \
            >> "$LOGS/debootstrap.log" 2>&1 || { tail -20 "$LOGS/debootstrap.log"; exit 1; }
        for m in /dev /sys /proc; do umount "$ROOT.tmp$m"; done
        MOUNTS=()
    fi
    tar -C "$ROOT.tmp" -cf "$BASE" .
    rm -rf "$ROOT.tmp"
    echo "  base root: $(( $(date +%s) - T0 )) s"
fi
rm -rf "$ROOT"; mkdir -p "$ROOT"
tar -C "$ROOT" -xf "$BASE"
echo "  $(( $(date +%s) - START )) s"

# A Raspberry Pi OS-like boot partition so the installer's and firstboot's edits are exercised.
mkdir -p "$ROOT/boot/firmware"
printf '# Raspberry Pi config.txt\ncamera_auto_detect=1\n\n[cm4]\notg_mode=1\n\n[all]\n' > "$ROOT/boot/firmware/config.txt"
echo "console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait" \
    > "$ROOT/boot/firmware/cmdline.txt"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
cp "$HOST_CA" "$ROOT/etc/hymy-ci-host-ca.crt"
bind /proc /proc
bind /sys /sys
bind /dev /dev
bind /dev/pts /dev/pts
bind "$PIPCACHE" /var/cache/hymy-pip
mkdir -p "$ROOT/tmp/hymy-src/wheels"
cp -r image systemd "$ROOT/tmp/hymy-src/"
cp "$WHEEL" "$ROOT/tmp/hymy-src/wheels/"
[ "$SCOPE" = full ] || cp "$WHEELHOUSE"/*.whl "$ROOT/tmp/hymy-src/wheels/"

echo "== installer, first run"
T0=$(date +%s)
in_root bash /tmp/hymy-src/image/install.sh "${INSTALL_ARGS[@]}" > "$LOGS/install-1.log" 2>&1 \
    || { tail -40 "$LOGS/install-1.log"; echo "ci-check: the installer failed" >&2; exit 1; }
grep -E '^(changed|==|hymy install|WARNING)' "$LOGS/install-1.log" | sed 's/^/  /'
echo "  first run: $(( $(date +%s) - T0 )) s"

echo "== user and groups"
GROUPS_OF_HYMY="$(in_root id -nG hymy)"
for g in hymy gpio video render input; do
    check "hymy is in group $g" grep -qw "$g" <<<"$GROUPS_OF_HYMY"
done
check "hymy has only the groups it needs ($GROUPS_OF_HYMY)" test "$(wc -w <<<"$GROUPS_OF_HYMY")" -eq 5
check "hymy cannot log in" test "$(in_root getent passwd hymy | cut -d: -f7)" = /usr/sbin/nologin
check "hymy is a system user" test "$(in_root id -u hymy)" -lt 1000
check "no 'pi' user was assumed" sh -c "! chroot '$ROOT' id pi >/dev/null 2>&1"

echo "== files and permissions"
perm() { chroot "$ROOT" stat -c '%a %U:%G' "$1"; }
check "/opt/hymy/current is a link into releases/" sh -c "readlink '$ROOT/opt/hymy/current' | grep -q '^releases/'"
check "/usr/local/bin/hymy runs" in_root hymy --version
check "/etc/hymy/kiosk.toml 640 root:hymy" test "$(perm /etc/hymy/kiosk.toml)" = "640 root:hymy"
check "/var/lib/hymy 750 hymy:hymy" test "$(perm /var/lib/hymy)" = "750 hymy:hymy"
for u in hymy-kiosk hymy-sync hymy-firstboot hymy-server; do
    check "/etc/systemd/system/$u.service 644 root:root" test "$(perm /etc/systemd/system/$u.service)" = "644 root:root"
done
check "hardware watchdog at most 15 s" grep -qx 'RuntimeWatchdogSec=15s' "$ROOT/etc/systemd/system.conf.d/50-hymy-watchdog.conf"
check "journald size limits" grep -qx 'SystemMaxUse=64M' "$ROOT/etc/systemd/journald.conf.d/50-hymy.conf"
check "screen blanking off" grep -qw 'consoleblank=0' "$ROOT/boot/firmware/cmdline.txt"
check "KMS driver on" grep -qx 'dtoverlay=vc4-kms-v3d' "$ROOT/boot/firmware/config.txt"
check "cmdline.txt is still one line" test "$(wc -l < "$ROOT/boot/firmware/cmdline.txt")" -eq 1

echo "== units"
for u in hymy-kiosk hymy-sync hymy-firstboot; do
    check "$u enabled" test "$(systemctl --root="$ROOT" is-enabled "$u.service" 2>/dev/null)" = enabled
done
check "hymy-server not enabled on a kiosk" sh -c "! systemctl --root='$ROOT' is-enabled hymy-server.service >/dev/null 2>&1"
if [ "$SCOPE" = full ]; then  # the same on every architecture (scope wheels: see the top)
VERIFY="$(in_root systemd-analyze verify /etc/systemd/system/hymy-kiosk.service /etc/systemd/system/hymy-sync.service \
    /etc/systemd/system/hymy-firstboot.service /etc/systemd/system/hymy-server.service 2>&1 | grep hymy || true)"
check "systemd-analyze verify inside the root: no complaint about hymy units" test -z "$VERIFY"
[ -z "$VERIFY" ] || echo "$VERIFY" | sed 's/^/    /'
fi

if [ "$SCOPE" = full ]; then  # the same on every architecture
echo "== provisioning and enrolment"
SERVER_URL=""; CODE=""
if .venv/bin/python -c "import server.testing, server.admin" 2>/dev/null; then
    # A real central server on loopback (the root shares this network namespace) and a real
    # one-time enrolment code for a new device.
    coproc SERVER { .venv/bin/python image/ci_server.py "$LOGS/server.db"; }
    SERVER_PID=$SERVER_PID
    read -r -t 60 SERVER_URL CODE <&"${SERVER[0]}" || true
fi
if [ -n "$SERVER_URL" ] && [ -n "$CODE" ]; then
    echo "  central server at $SERVER_URL"
else
    echo "  (no central server in this checkout: enrolment is checked with the token writer only)"
    SERVER_URL="http://127.0.0.1:9"; CODE="CIONLY-0000"
fi
cat > "$ROOT/boot/firmware/hymy.toml" <<EOF
[server]
url = "$SERVER_URL"
enrolment_code = "$CODE"

[device]
name = "CI kiosk"
hostname = "hymy-ci-1"
timezone = "Europe/Helsinki"

[wifi]
ssid = "Kauppa"
password = "ci-wifi-secret-42"
country = "FI"

[display]
rotation = 180
EOF
check "hymy firstboot applies the file" in_root hymy firstboot
NM="$ROOT/etc/NetworkManager/system-connections/hymy-wifi.nmconnection"
check "Wi-Fi keyfile 600 root:root" test "$(perm /etc/NetworkManager/system-connections/hymy-wifi.nmconnection)" = "600 root:root"
check "Wi-Fi keyfile has the network" grep -qx 'ssid=Kauppa' "$NM"
check "secrets scrubbed from the boot partition" sh -c "! grep -rq -e ci-wifi-secret-42 -e '$CODE' '$ROOT/boot/firmware'"
check "boot file renamed hymy.toml.applied" test -f "$ROOT/boot/firmware/hymy.toml.applied" -a ! -e "$ROOT/boot/firmware/hymy.toml"
check "kiosk.toml still 640 root:hymy" test "$(perm /etc/hymy/kiosk.toml)" = "640 root:hymy"
check "kiosk.toml has the server" grep -q "url = \"$SERVER_URL\"" "$ROOT/etc/hymy/kiosk.toml"
check "kiosk.toml has the rotation" grep -qx 'rotation = 180' "$ROOT/etc/hymy/kiosk.toml"
check "hostname set" test "$(cat "$ROOT/etc/hostname")" = hymy-ci-1
check "time zone set" test "$(readlink "$ROOT/etc/localtime")" = /usr/share/zoneinfo/Europe/Helsinki
check "Wi-Fi country on the kernel command line" grep -qw 'cfg80211.ieee80211_regdom=FI' "$ROOT/boot/firmware/cmdline.txt"
if [ -n "${SERVER_PID:-}" ]; then
    as_hymy hymy sync --once > "$LOGS/sync.log" 2>&1 || true
    check "hymy sync --once enrolled with the one-time code" test -s "$ROOT/var/lib/hymy/device-token"
    [ -s "$ROOT/var/lib/hymy/device-token" ] || tail -5 "$LOGS/sync.log" | sed 's/^/    /'
else
    as_hymy /opt/hymy/current/bin/python -c \
        "from pathlib import Path; from sync.enrolment import write_token; write_token(Path('/var/lib/hymy/device-token'), 'ci-token')"
fi
check "token file 600 hymy:hymy" test "$(perm /var/lib/hymy/device-token)" = "600 hymy:hymy"
check "firstboot at the next boot removes the used code from kiosk.toml" in_root hymy firstboot
check "enrolment code gone from kiosk.toml" sh -c "! grep -q enrolment_code '$ROOT/etc/hymy/kiosk.toml'"

fi

if [ "$SCOPE" = wheels ]; then
    echo "== the $ARCH wheels load in the release"
    # Kivy's compiled core and its bundled SDL2 text provider; no window (there is no screen here).
    if in_root env KIVY_HOME=/tmp/kivy-check KIVY_NO_ARGS=1 KIVY_NO_CONSOLELOG=1 /opt/hymy/current/bin/python -c \
        "import kivy.graphics.instructions, kivy.core.text as t; assert t.Label is not None; print(t.Label.__module__)" \
        > "$LOGS/kivy.log" 2>&1; then ok "Kivy's $MACHINE modules load ($(tail -1 "$LOGS/kivy.log"))"
    else bad "Kivy's $MACHINE modules load"; tail -15 "$LOGS/kivy.log" | sed 's/^/    /'; fi
    if [ -n "$LGPIO" ]; then
        if in_root /opt/hymy/current/bin/python -m pip install -q --no-index --find-links /tmp/hymy-src/wheels lgpio \
            > "$LOGS/lgpio.log" 2>&1 && in_root /opt/hymy/current/bin/python -c "import lgpio; print(lgpio.__file__)" \
            >> "$LOGS/lgpio.log" 2>&1; then ok "lgpio's $MACHINE wheel installs and loads"
        else bad "lgpio's $MACHINE wheel installs and loads"; tail -15 "$LOGS/lgpio.log" | sed 's/^/    /'; fi
    fi
fi

echo "== hymy status and hymy hwtest --auto inside the root"
if as_hymy hymy status > "$LOGS/status.log" 2>&1; then ok "hymy status"; sed 's/^/    /' "$LOGS/status.log"
else bad "hymy status"; sed 's/^/    /' "$LOGS/status.log"; fi
[ "$SCOPE" = full ] && DEVICE_NAME="CI kiosk" || DEVICE_NAME=kiosk  # provisioned, or as installed
check "hymy status --json names the device" sh -c "chroot '$ROOT' runuser -u hymy -- env HYMY_CONFIG=/etc/hymy/kiosk.toml hymy status --json | grep -q '\"device_name\": \"$DEVICE_NAME\"'"
if in_root hymy hwtest --help >/dev/null 2>&1; then
    # No GPIO in a chroot: gpiozero's mock pins, as in development.
    if as_hymy GPIOZERO_PIN_FACTORY=mock hymy hwtest --auto > "$LOGS/hwtest.log" 2>&1; then ok "hymy hwtest --auto"
    else bad "hymy hwtest --auto"; fi
    sed 's/^/    /' "$LOGS/hwtest.log" | tail -15
else
    bad "hymy hwtest is not in this release"
fi

if [ "$SCOPE" = full ]; then  # the same on every architecture
echo "== installer, second run (must change nothing)"
in_root bash /tmp/hymy-src/image/install.sh "${INSTALL_ARGS[@]}" > "$LOGS/install-2.log" 2>&1 \
    || { tail -20 "$LOGS/install-2.log"; bad "second run failed"; }
check "second run: no 'changed:' line" sh -c "! grep -q '^changed:' '$LOGS/install-2.log'"
check "second run: says unchanged" test "$(tail -1 "$LOGS/install-2.log")" = "hymy install: unchanged"
grep '^changed:' "$LOGS/install-2.log" | sed 's/^/    /' || true

fi

echo "== image check ($SUITE $ARCH, scope $SCOPE): $FAILED failed, $(( $(date +%s) - START )) s"
[ "$FAILED" -eq 0 ]
