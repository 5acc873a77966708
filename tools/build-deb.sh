#!/usr/bin/env bash
# Builds presenced_<version>_<arch>.deb with dpkg-deb: the three self-contained binaries in /usr/bin (published
# by tools/install.sh), the systemd unit in /lib/systemd/system, /etc/presenced/presenced.conf as a conffile
# (every key at its default; an edited copy survives upgrades and dpkg -r), and maintainer scripts that
# create the system user presenced, enable the unit without starting it, and undo all of it on remove/purge.
#
# usage: tools/build-deb.sh [--output DIR] [--publish-dir DIR] [--reuse] [--compression xz|gzip|none]
#   --output DIR       where the .deb goes (default artifacts/deb); its path is the last line printed
#   --publish-dir DIR  passed to tools/install.sh (default artifacts/publish/<rid>)
#   --reuse            reuse binaries already published there
#   --compression C    dpkg-deb compression (default xz: small; none: fast, for tests)
# Exit codes: 0 built, 1 bad usage, 2 a step failed.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
output="$repo_root/artifacts/deb"
publish_dir=""
compression=xz
install_args=()

usage_error() {
  printf 'build-deb.sh: %s\n' "$1" >&2
  sed -n '/^# usage:/,/^#   --compression/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 1
}
fail() {
  printf 'build-deb.sh: error: %s\n' "$1" >&2
  exit 2
}

while (($#)); do
  case "$1" in
    --output | --publish-dir | --compression)
      (($# >= 2)) || usage_error "$1 needs a value"
      case "$1" in
        --output) output="$2" ;;
        --publish-dir) publish_dir="$2" ;;
        --compression) compression="$2" ;;
      esac
      shift 2
      ;;
    --reuse) install_args+=(--reuse) && shift ;;
    -h | --help) sed -n '2,/^# Exit codes/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" && exit 0 ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
done
[[ "$compression" =~ ^(xz|gzip|none)$ ]] || usage_error "--compression must be xz, gzip or none, not '$compression'"
command -v dpkg-deb >/dev/null || fail "dpkg-deb is not installed (apt-get install dpkg)"

arch="$(dpkg --print-architecture)"
case "$arch" in
  amd64) runtime=linux-x64 ;;
  arm64) runtime=linux-arm64 ;;
  *) fail "no .NET runtime identifier known for Debian architecture $arch" ;;
esac
[[ -n "$publish_dir" ]] && install_args+=(--publish-dir "$publish_dir")

staging="$(mktemp -d "${TMPDIR:-/tmp}/presenced-deb.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
root="$staging/root"

"$repo_root/tools/install.sh" --prefix /usr --destdir "$root" --runtime "$runtime" "${install_args[@]}" ||
  fail "tools/install.sh failed"

# The version and commit the binary reports: "presenced 1.0.0 (commit <sha>)" becomes 1.0.0+git<short sha>.
version_line="$("$root/usr/bin/presenced" --version)" || fail "the published presenced does not run: $version_line"
[[ "$version_line" =~ ^presenced\ ([0-9A-Za-z.~-]+)\ \(commit\ ([0-9a-f]+|unknown)\)$ ]] ||
  fail "unexpected --version output: $version_line"
version="${BASH_REMATCH[1]}"
commit="${BASH_REMATCH[2]}"
[[ "$commit" != unknown ]] && version="$version+git${commit:0:12}"

install -d "$root/lib/systemd/system" "$root/etc/presenced" "$root/DEBIAN"
# The unit names the install.sh default prefix; the package installs into /usr.
sed 's#/usr/local/#/usr/#g' "$repo_root/tools/presenced.service" >"$root/lib/systemd/system/presenced.service"
chmod 0644 "$root/lib/systemd/system/presenced.service"
install -m 0644 "$repo_root/presenced.conf" "$root/etc/presenced/presenced.conf"

installed_kb="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
cat >"$root/DEBIAN/control" <<CONTROL
Package: presenced
Version: $version
Architecture: $arch
Maintainer: PresenceD maintainers <presenced@localhost>
Section: net
Priority: optional
Installed-Size: $installed_kb
Depends: passwd, init-system-helpers
Description: presence daemon for native and game clients
 PresenceD tells every member of a room who else is there right now and
 carries their messages to each other, over a small binary protocol on raw
 TCP. Self-contained binaries: presenced (the daemon), presence-cli and
 presence-load. Built from commit $commit.
CONTROL
printf '/etc/presenced/presenced.conf\n' >"$root/DEBIAN/conffiles"

cat >"$root/DEBIAN/postinst" <<'SCRIPT'
#!/bin/sh
# Creates the system user the unit runs as and enables the unit. It is not started: the operator edits
# /etc/presenced/presenced.conf first and runs `systemctl start presenced`. An upgrade restarts a running one.
set -e
if [ "$1" = configure ]; then
    if ! getent passwd presenced >/dev/null; then
        useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
            --comment "PresenceD daemon" presenced
    fi
    deb-systemd-helper unmask presenced.service >/dev/null
    if deb-systemd-helper --quiet was-enabled presenced.service; then
        deb-systemd-helper enable presenced.service >/dev/null
    else
        deb-systemd-helper update-state presenced.service >/dev/null
        # First install: enabled, so it starts at the next boot; not started now.
        [ -n "$2" ] || deb-systemd-helper enable presenced.service >/dev/null
    fi
    if [ -d /run/systemd/system ]; then
        systemctl --system daemon-reload
        [ -z "$2" ] || deb-systemd-invoke try-restart presenced.service
    fi
fi
exit 0
SCRIPT

cat >"$root/DEBIAN/prerm" <<'SCRIPT'
#!/bin/sh
# Stops a running daemon (a drain: clients get GOAWAY SHUTDOWN) before its files go.
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
    deb-systemd-invoke stop presenced.service
fi
exit 0
SCRIPT

cat >"$root/DEBIAN/postrm" <<'SCRIPT'
#!/bin/sh
# remove: the unit is gone, so it is disabled (the conffile and the user stay, as Debian keeps them).
# purge: the conffile goes (dpkg removes it), then the unit's enable state, /etc/presenced and the user.
set -e
if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload
fi
case "$1" in
    remove)
        deb-systemd-helper mask presenced.service >/dev/null
        ;;
    purge)
        deb-systemd-helper purge presenced.service >/dev/null
        deb-systemd-helper unmask presenced.service >/dev/null
        rmdir /etc/presenced 2>/dev/null || [ ! -d /etc/presenced ] || echo "presenced: /etc/presenced kept: it holds files not from the package" >&2
        if getent passwd presenced >/dev/null; then
            userdel presenced
        fi
        if getent group presenced >/dev/null; then
            groupdel presenced
        fi
        ;;
esac
exit 0
SCRIPT
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"

mkdir -p "$output"
deb="$output/presenced_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Z"$compression" --build "$root" "$deb" >/dev/null || fail "dpkg-deb --build failed"
printf '%s\n' "$deb"
