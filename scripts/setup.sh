#!/usr/bin/env bash
# Install every build, test and benchmark dependency of vmdrift on Debian 12.
# Idempotent: safe to run again; installs only what is missing.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git
  libguestfs-dev libguestfs-tools linux-image-amd64 qemu-utils
  libvirt-dev libvirt-daemon-system libvirt-clients
  libxxhash-dev libyaml-dev libsystemd-dev libcriterion-dev libhivex-dev libhivex-bin ntfs-3g
  libsqlite3-dev sqlite3 libssl-dev openssl libgit2-dev zlib1g-dev libyara-dev yara
  e2fsprogs dosfstools fdisk xfsprogs libguestfs-xfs libnbd-dev
  aide rsyslog rsyslog-gnutls systemd
  attr acl libcap2-bin time python3 python3-rpm python3-jsonschema ansible-core prometheus chromium
  clang libclang-rt-14-dev unicode-data
)

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: must run as root (apt-get install)" >&2
  exit 2
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup.sh: installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup.sh: all dependencies present"
fi
