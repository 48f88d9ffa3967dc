#!/bin/bash
# tests/vm/fetch-esptool.sh — get esptool 4.7 from Debian's trixie suite into
# $TTYRFC_CACHE/esptool/ without touching the machine's apt configuration: a private
# sources file, lists dir and cache under $TTYRFC_CACHE/esptool-apt/, `apt-get download`,
# `dpkg-deb -x`. Idempotent: does nothing when build/esptool/ is already unpacked.
#
# Afterwards:
#   PYTHONPATH=$TTYRFC_CACHE/esptool/usr/lib/python3/dist-packages /usr/bin/python3 -m esptool ...
# (the package is pure Python; the esp_rfc2217_server.py example is under
# $TTYRFC_CACHE/esptool/usr/share/doc/esptool/examples/). esptool itself imports only
# pyserial and intelhex, both from bookworm (python3-serial, python3-intelhex in
# tests/vm/deps.sh). The package also Depends on python3-ecdsa, -bitstring,
# -cryptography, -yaml (espsecure/espefuse) and python3-reedsolo (espefuse; not in
# bookworm); none of these is needed to flash.
# The mirror is the one in the machine's own Debian apt source (URIs:), not hard-coded.
#
# Env: ESPTOOL_SUITE (default trixie)  TTYRFC_ESPTOOL_DIR (default $TTYRFC_CACHE/esptool, see tests/cache.sh)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$REPO/tests/cache.sh"
DEST=$TTYRFC_ESPTOOL_DIR
SUITE=${ESPTOOL_SUITE:-trixie}
PYDIR=usr/lib/python3/dist-packages
say() { echo "fetch-esptool: $*" >&2; }

if [ -f "$DEST/.done" ] && [ -d "$DEST/$PYDIR/esptool" ]; then
    say "cached: $(cat "$DEST/.done")"
    exit 0
fi

# --- the machine's Debian mirror ---------------------------------------------------
mirror=
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    u=$(awk 'BEGIN{IGNORECASE=1}
             /^[[:space:]]*$/ {uris=""; deb=0; next}
             /^URIs:/ {uris=$2}
             /^Suites:/ && / (bookworm|trixie|sid|stable|testing|unstable)( |$)/ {deb=1}
             /^Suites:/ {for(i=2;i<=NF;i++) if ($i ~ /^(bookworm|bullseye|trixie|sid|stable|testing|unstable)$/) deb=1}
             deb && uris != "" && uris !~ /security/ {print uris; exit}' "$f")
    [ -n "$u" ] && { mirror=$u; break; }
done
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
    mirror=$(awk '$1=="deb" && $0 !~ /security/ {for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' \
             /etc/apt/sources.list)
fi
[ -n "$mirror" ] || { say "no Debian mirror found in /etc/apt/sources.list{,.d/*.sources}"; exit 1; }
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || { say "missing $keyring (apt-get install debian-archive-keyring)"; exit 1; }
say "using mirror $mirror, suite $SUITE"

# --- private apt state -------------------------------------------------------------
APT=$TTYRFC_CACHE/esptool-apt
mkdir -p "$APT"/{lists/partial,cache/archives/partial,etc/sources.list.d,etc/preferences.d,deb}
cat >"$APT/etc/sources.list.d/esptool.sources" <<SRC
Types: deb
URIs: $mirror
Suites: $SUITE
Components: main
Signed-By: $keyring
SRC
: >"$APT/etc/sources.list"
aptopts=(
    -o Dir::Etc::SourceList="$APT/etc/sources.list"
    -o Dir::Etc::SourceParts="$APT/etc/sources.list.d"
    -o Dir::Etc::PreferencesParts="$APT/etc/preferences.d"
    -o Dir::State::Lists="$APT/lists"
    -o Dir::Cache="$APT/cache"
    -o Dir::Cache::pkgcache="" -o Dir::Cache::srcpkgcache=""
    -o APT::Get::List-Cleanup=0
    -o Acquire::Languages=none
    -o Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false
    -o Debug::NoLocking=1
    -o APT::Sandbox::User=root
)
# The archive's Release files may be a frozen snapshot; don't reject them as expired.
aptopts+=(-o Acquire::Check-Valid-Until=false)

say "apt-get update (private lists in ${APT#$REPO/})"
apt-get "${aptopts[@]}" update -q >"$APT/update.log" 2>&1 || {
    cat "$APT/update.log" >&2; say "apt-get update failed"; exit 1; }

ver=$(apt-cache "${aptopts[@]}" show esptool 2>/dev/null | awk '/^Version:/{print $2}' | sort -V | tail -1)
[ -n "$ver" ] || { say "esptool not found in $SUITE"; exit 1; }
case $ver in 4.*) ;; *) say "warning: $SUITE has esptool $ver (expected 4.x)";; esac
say "esptool $ver; Depends: $(apt-cache "${aptopts[@]}" show "esptool=$ver" | awk -F': ' '/^Depends:/{print $2; exit}')"

( cd "$APT/deb" && rm -f esptool_*.deb && apt-get "${aptopts[@]}" download -q "esptool=$ver" ) >&2
deb=$(ls "$APT"/deb/esptool_*.deb | head -1)
rm -rf "$DEST.tmp"; mkdir -p "$DEST.tmp"
dpkg-deb -x "$deb" "$DEST.tmp"
[ -f "$DEST.tmp/$PYDIR/esptool/__init__.py" ] || {
    say "unexpected package layout:"; (cd "$DEST.tmp" && find . -maxdepth 4) >&2; exit 1; }
# byte-compile for the interpreter the tests use (the VM sees this tree read-only)
/usr/bin/python3 -m compileall -q "$DEST.tmp/$PYDIR" >/dev/null || true
echo "esptool $ver from $SUITE ($(basename "$deb"))" >"$DEST.tmp/.done"
rm -rf "$DEST"; mv "$DEST.tmp" "$DEST"
say "unpacked into ${DEST#$REPO/}"
