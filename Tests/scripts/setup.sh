#!/usr/bin/env bash
# Installs what building deployctl needs on a fresh Debian machine, skipping what is there.
# Usage: setup.sh [extra apt packages...]
set -euo pipefail
wanted=(libgit2-dev libsqlite3-dev libpq-dev libcurl4-openssl-dev libssl-dev zlib1g-dev pkg-config git python3 "$@")
missing=()
for package in "${wanted[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # Never let a package start a service on a default port (nginx, redis, postgresql, ...).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
  fi
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: the Swift 6 toolchain is not on PATH (expected /opt/swift/usr/bin)"; exit 1; }
