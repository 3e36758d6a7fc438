#!/usr/bin/env bash
# Installs the Debian 12 packages that viewcache builds, tests and demos need,
# and only those that are missing. Safe to run again: a machine that has them
# all is left untouched and no root rights are asked for.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libfmt-dev libssl-dev libxxhash-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcpp-httplib-dev
  libzstd-dev liblzma-dev zlib1g-dev
  openjdk-17-jdk-headless libcaffeine-java
)
# Tools that only some commands need, such as the fuzzer's clang, come in
# through this variable.
read -r -a extra <<< "${VIEWCACHE_EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "deps: missing packages ${missing[*]}, and this user is not root and has no sudo;" \
         "install them as root with apt-get install ${missing[*]}" >&2
    exit 1
  fi
  sudo_cmd=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
