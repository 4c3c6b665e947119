#!/bin/sh
# Install the Debian packages needed to build s3batchd and run its tests
# (unit, fuzz, integration against a local Ceph RGW and a local OpenStack
# Swift with its s3api middleware) on a fresh Debian 12.
# Idempotent: does nothing when every package is already installed.
# usage: tests/deps.sh [--check]   (--check: list what is missing, exit 1 if any)
set -eu

PACKAGES="
build-essential autoconf automake pkg-config
libevent-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev libjson-c-dev
libexpat1-dev zlib1g-dev libsystemd-dev systemd
python3 python3-pytest python3-pytest-timeout python3-boto3 awscli
radosgw ceph-mon ceph-osd ceph-common uuid-runtime curl bc
swift swift-proxy swift-account swift-container swift-object memcached
clang sqlite3 stress-ng
"

missing=""
for p in $PACKAGES; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done

if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi
if [ "${1:-}" = --check ]; then
	echo "deps: missing:$missing"
	exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
	SUDO=
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "deps: need root (or sudo) to install:$missing" >&2
	exit 1
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# The package lists are fetched only when missing or older than a day, or
# when a first install attempt cannot find a package.
lists_fresh() {
	[ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]
}
install() {
	# shellcheck disable=SC2086
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends -o Dpkg::Use-Pty=0 $missing >/dev/null
}
if ! lists_fresh; then
	$SUDO apt-get update -qq >/dev/null
	install
elif ! install; then
	$SUDO apt-get update -qq >/dev/null
	install
fi
echo "deps: done"
