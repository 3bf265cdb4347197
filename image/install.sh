#!/usr/bin/env bash
# Hymy installer for Raspberry Pi OS Lite (Bookworm or Trixie, arm64); also runs on plain Debian 12/13
# and inside a chroot (the image build, CI). Run as root:
#
#   sudo image/install.sh --wheel hymy-0.1.0-py3-none-any.whl     # a wheel
#   sudo image/install.sh --source .                              # a source checkout
#   sudo image/install.sh --wheelhouse /media/usb/wheels          # offline: hymy + every dependency
#
# Idempotent: every step prints "changed: ..." or "unchanged: ..."; a second run prints only
# "unchanged" lines and ends with "hymy install: unchanged". Why each step: docs/deploy.md.
set -euo pipefail

PREFIX=/opt/hymy
EXTRAS=kiosk
BOOT=/boot/firmware
SOURCE_KIND=""
SOURCE=""
APT=1
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
UNITS_DIR="$HERE/../systemd"
ENABLE_UNITS="hymy-firstboot.service hymy-kiosk.service hymy-sync.service"
GROUPS_NEEDED="gpio video render input"

usage() {
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    cat <<EOF
Options:
  --wheel FILE        install this wheel (its dependencies come from the package index or --wheelhouse)
  --source DIR        install from a source checkout (pyproject.toml)
  --wheelhouse DIR    install offline from a directory of wheels (hymy-*.whl and its dependencies)
  --extras LIST       package extras (default: kiosk; a server host uses server,postgres)
  --prefix DIR        where releases/<version> and the 'current' link go (default: /opt/hymy)
  --boot DIR          the boot partition (default: /boot/firmware; skipped when missing)
  --units-dir DIR     the unit files (default: ../systemd next to this script)
  --no-apt            do not install Debian packages (they must be there already)
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
        --wheel) SOURCE_KIND=wheel; SOURCE="$2"; shift 2 ;;
        --source) SOURCE_KIND=source; SOURCE="$2"; shift 2 ;;
        --wheelhouse) SOURCE_KIND=wheelhouse; SOURCE="$2"; shift 2 ;;
        --extras) EXTRAS="$2"; shift 2 ;;
        --prefix) PREFIX="$2"; shift 2 ;;
        --boot) BOOT="$2"; shift 2 ;;
        --units-dir) UNITS_DIR="$2"; shift 2 ;;
        --no-apt) APT=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ -n "$SOURCE_KIND" ] || { echo "install.sh: give --wheel, --source or --wheelhouse (see --help)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root (sudo)" >&2; exit 2; }
[ -e "$SOURCE" ] || { echo "install.sh: $SOURCE: no such file or directory" >&2; exit 2; }
SOURCE="$(cd "$(dirname "$SOURCE")" && pwd)/$(basename "$SOURCE")"

CHANGED=0
changed() { echo "changed: $*"; CHANGED=1; }
unchanged() { echo "unchanged: $*"; }

IN_CHROOT=0
if systemd-detect-virt --quiet --chroot 2>/dev/null; then IN_CHROOT=1; fi
if [ ! -d /run/systemd/system ]; then IN_CHROOT=1; fi   # no running systemd: offline operations only

# put_file PATH MODE OWNER:GROUP  (content on stdin): write only when content, mode or owner differ.
put_file() {
    local path="$1" mode="$2" owner="$3" tmp
    tmp="$(mktemp)"
    cat > "$tmp"
    if [ -f "$path" ] && cmp -s "$tmp" "$path" \
        && [ "$(stat -c '%a %U:%G' "$path")" = "$(printf '%o' "0$mode") $owner" ]; then
        rm -f "$tmp"; unchanged "$path"; return 0
    fi
    mkdir -p "$(dirname "$path")"
    install -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$tmp" "$path.hymy-new"
    mv -f "$path.hymy-new" "$path"
    rm -f "$tmp"
    changed "$path"
}

# ensure_dir PATH MODE OWNER:GROUP
ensure_dir() {
    local path="$1" mode="$2" owner="$3"
    if [ -d "$path" ] && [ "$(stat -c '%a %U:%G' "$path")" = "$(printf '%o' "0$mode") $owner" ]; then
        unchanged "$path/"; return 0
    fi
    install -d -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$path"
    changed "$path/"
}

# ensure_line FILE LINE: append LINE to FILE unless a line equal to it is there.
ensure_line() {
    local file="$1" line="$2"
    if grep -qxF -- "$line" "$file"; then unchanged "$file: $line"; return 0; fi
    printf '%s\n' "$line" >> "$file"
    changed "$file: $line"
}

# ensure_config_line LINE: a line of config.txt that applies to every Pi model (under [all]).
ensure_config_line() {
    local file="$BOOT/config.txt" line="$1" last
    if grep -qxF -- "$line" "$file"; then unchanged "$file: $line"; return 0; fi
    last="$(grep -E '^\[.*\]' "$file" | tail -1 || true)"
    if [ -n "$last" ] && [ "$last" != "[all]" ]; then printf '\n[all]\n' >> "$file"; fi
    printf '%s\n' "$line" >> "$file"
    changed "$file: $line"
}

# ensure_cmdline KEY=VALUE: one kernel parameter on the single line of cmdline.txt.
ensure_cmdline() {
    local file="$BOOT/cmdline.txt" kv="$1" key="${1%%=*}" current new
    current="$(tr -d '\n' < "$file")"
    new="$(printf '%s\n' $current | grep -v "^${key}=" | tr '\n' ' ')$kv"
    if printf '%s\n' $current | grep -qxF -- "$kv"; then unchanged "$file: $kv"; return 0; fi
    printf '%s\n' "$new" > "$file"
    changed "$file: $kv"
}

echo "== Debian packages"
# python3-venv: the release venvs; libgl1/libegl1/libgles2/libgbm1/libdrm2: Kivy's bundled SDL2 draws
# with KMS/DRM through Mesa; libmtdev1: multitouch; network-manager: the Wi-Fi keyfile from the
# provisioning file (Raspberry Pi OS Lite already uses it); systemd-timesyncd: the clock (no RTC
# before the Pi 5); iw: the Wi-Fi country; sqlite3: looking into the store in the field.
PACKAGES="python3 python3-venv ca-certificates libgl1 libegl1 libgles2 libgbm1 libdrm2 libmtdev1
          network-manager systemd-timesyncd iw sqlite3"
# lgpio: gpiozero's pin factory on Bookworm/Pi 5; Raspberry Pi OS ships it as python3-lgpio, which the
# venv sees through --system-site-packages (PyPI has an arm64 wheel only for Python 3.11).
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
MISSING=""
for p in $PACKAGES; do
    # Trixie renamed some libraries in the 64-bit time_t transition (libmtdev1 -> libmtdev1t64);
    # apt installs the new name for the old one, so either counts.
    installed "$p" || installed "${p}t64" || MISSING="$MISSING $p"
done
if apt-cache show python3-lgpio >/dev/null 2>&1 \
    && ! installed python3-lgpio; then
    MISSING="$MISSING python3-lgpio"
fi
if [ -z "$MISSING" ]; then
    unchanged "packages"
elif [ "$APT" -eq 0 ]; then
    echo "install.sh: missing packages:$MISSING (and --no-apt was given)" >&2; exit 1
else
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $MISSING >/dev/null
    changed "packages:$MISSING"
fi

echo "== user and groups"
for g in $GROUPS_NEEDED; do
    if getent group "$g" >/dev/null; then unchanged "group $g"; else groupadd --system "$g"; changed "group $g"; fi
done
if id hymy >/dev/null 2>&1; then
    unchanged "user hymy"
else
    # A system user with no login and no home of its own: the data dir is its home.
    useradd --system --home-dir /var/lib/hymy --no-create-home --shell /usr/sbin/nologin \
        --comment "Hymy kiosk" --user-group hymy
    changed "user hymy"
fi
for g in $GROUPS_NEEDED; do
    if id -nG hymy | tr ' ' '\n' | grep -qx "$g"; then unchanged "hymy in $g"; else usermod -aG "$g" hymy; changed "hymy in $g"; fi
done

echo "== release"
case "$SOURCE_KIND" in
    wheel)
        WHEEL="$SOURCE"
        VERSION="$(basename "$WHEEL" | cut -d- -f2)"
        FINGERPRINT="$(sha256sum "$WHEEL" | cut -d' ' -f1)"
        SPEC="$WHEEL[$EXTRAS]"; PIP_OPTS="" ;;
    wheelhouse)
        WHEEL="$(ls "$SOURCE"/hymy-*.whl | sort -V | tail -1)"
        VERSION="$(basename "$WHEEL" | cut -d- -f2)"
        FINGERPRINT="$(sha256sum "$WHEEL" | cut -d' ' -f1)"
        SPEC="hymy[$EXTRAS]==$VERSION"; PIP_OPTS="--no-index --find-links $SOURCE" ;;
    source)
        VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$SOURCE/hymy/__init__.py")"
        PARTS=""
        for d in pyproject.toml hymy kiosk hardware sync server assets; do [ -e "$SOURCE/$d" ] && PARTS="$PARTS $d"; done
        # shellcheck disable=SC2086
        FINGERPRINT="$(cd "$SOURCE" && find $PARTS -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 \
            | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
        SPEC="$SOURCE[$EXTRAS]"; PIP_OPTS="" ;;
esac
[ -n "$VERSION" ] || { echo "install.sh: cannot tell the version of $SOURCE" >&2; exit 2; }
RELEASE="$PREFIX/releases/$VERSION"
MARK="$RELEASE/release.json"
WANT="{\"version\": \"$VERSION\", \"source_sha256\": \"$FINGERPRINT\", \"extras\": \"$EXTRAS\"}"
ensure_dir "$PREFIX" 755 root:root
ensure_dir "$PREFIX/releases" 755 root:root
if [ -f "$MARK" ] && [ "$(cat "$MARK")" = "$WANT" ] && [ -x "$RELEASE/bin/hymy" ]; then
    unchanged "release $VERSION"
else
    rm -rf "$RELEASE"
    # --system-site-packages: Debian's python3-lgpio (see above); everything else comes from the venv.
    python3 -m venv --system-site-packages "$RELEASE"
    # shellcheck disable=SC2086
    if ! "$RELEASE/bin/python" -m pip install --disable-pip-version-check --no-input -q $PIP_OPTS "$SPEC"; then
        rm -rf "$RELEASE"; echo "install.sh: installing $SPEC failed" >&2; exit 1
    fi
    "$RELEASE/bin/python" -m compileall -q "$RELEASE/lib" >/dev/null 2>&1 || true
    printf '%s' "$WANT" > "$MARK"
    changed "release $VERSION in $RELEASE"
fi
if [ "$(readlink "$PREFIX/current" 2>/dev/null)" = "releases/$VERSION" ]; then
    unchanged "$PREFIX/current -> releases/$VERSION"
else
    ln -sfn "releases/$VERSION" "$PREFIX/current.new" && mv -T "$PREFIX/current.new" "$PREFIX/current"
    changed "$PREFIX/current -> releases/$VERSION"
fi
if [ "$(readlink /usr/local/bin/hymy 2>/dev/null)" = "$PREFIX/current/bin/hymy" ]; then
    unchanged "/usr/local/bin/hymy"
else
    ln -sfn "$PREFIX/current/bin/hymy" /usr/local/bin/hymy; changed "/usr/local/bin/hymy"
fi

echo "== config and data"
ensure_dir /etc/hymy 755 root:root
if [ -f /etc/hymy/kiosk.toml ]; then
    unchanged "/etc/hymy/kiosk.toml (kept as it is)"
else
    # Development-free defaults; /boot/firmware/hymy.toml (hymy firstboot) fills in the server.
    put_file /etc/hymy/kiosk.toml 640 root:hymy <<EOF
# Hymy device config. Written by image/install.sh; hymy firstboot merges /boot/firmware/hymy.toml in.
# Every key is explained in kiosk.toml.example:
#   ls $PREFIX/current/lib/python3*/site-packages/kiosk/kiosk.toml.example
[device]
name = "kiosk"
data_dir = "/var/lib/hymy"
clock = "kernel"

[display]
enabled = true
rotation = 0
EOF
fi
# The data dir: the store, the device token (0600) and the cached store config. StateDirectory= in
# the units makes it too; made here so a chroot check and `hymy status` see it before the first boot.
ensure_dir /var/lib/hymy 750 hymy:hymy
if command -v blkid >/dev/null && blkid -L hymy-data >/dev/null 2>&1; then
    # A separate writable partition labelled hymy-data keeps the data when the root is an overlay.
    ensure_line /etc/fstab "LABEL=hymy-data /var/lib/hymy ext4 defaults,noatime,commit=5 0 2"
fi
if [ "$(findmnt -n -o FSTYPE / 2>/dev/null)" = "overlay" ] && ! findmnt -n /var/lib/hymy >/dev/null 2>&1; then
    echo "WARNING: the root file system is an overlay and /var/lib/hymy is not a separate writable mount:" >&2
    echo "         presses would be lost at every reboot. See docs/deploy.md, 'Read-only root'." >&2
fi

echo "== systemd units"
for f in "$UNITS_DIR"/hymy-*.service; do
    put_file "/etc/systemd/system/$(basename "$f")" 644 root:root < "$f"
done
for u in $ENABLE_UNITS; do
    if [ "$(systemctl is-enabled "$u" 2>/dev/null)" = "enabled" ]; then
        unchanged "enabled $u"
    else
        systemctl enable "$u" >/dev/null 2>&1; changed "enabled $u"
    fi
done
# The BCM2835 watchdog cannot be set longer than 15 s; systemd pings it, so a hung kernel or PID 1
# reboots the kiosk. RebootWatchdogSec covers a reboot that hangs.
put_file /etc/systemd/system.conf.d/50-hymy-watchdog.conf 644 root:root <<'EOF'
# Written by Hymy's installer: the hardware watchdog (BCM2835: at most 15 s).
[Manager]
RuntimeWatchdogSec=15s
RebootWatchdogSec=2min
EOF
# An SD card wears out: cap the journal (and keep room free for the presses).
put_file /etc/systemd/journald.conf.d/50-hymy.conf 644 root:root <<'EOF'
# Written by Hymy's installer: bounded logs on an SD card.
[Journal]
SystemMaxUse=64M
SystemKeepFree=256M
RuntimeMaxUse=32M
MaxRetentionSec=1month
EOF

echo "== boot partition"
if [ -f "$BOOT/config.txt" ]; then
    # KMS: Kivy's SDL2 draws with KMS/DRM (Raspberry Pi OS's default; make sure) and the SoC watchdog on.
    ensure_config_line "dtoverlay=vc4-kms-v3d"
    ensure_config_line "dtparam=watchdog=on"
else
    unchanged "$BOOT/config.txt (none here)"
fi
if [ -f "$BOOT/cmdline.txt" ]; then
    # Screen blanking off (a kiosk is always on) and no blinking console cursor under the kiosk.
    ensure_cmdline consoleblank=0
    ensure_cmdline vt.global_cursor_default=0
else
    unchanged "$BOOT/cmdline.txt (none here)"
fi

if [ "$CHANGED" -eq 1 ] && [ "$IN_CHROOT" -eq 0 ]; then
    systemctl daemon-reload
    systemctl try-restart hymy-kiosk.service hymy-sync.service || true
fi
if [ "$CHANGED" -eq 0 ]; then
    echo "hymy install: unchanged"
else
    echo "hymy install: done (version $VERSION)$([ "$IN_CHROOT" -eq 1 ] && echo '; units enabled, they start at boot')"
fi
