#!/usr/bin/env bash
# (Copied from the shared GPU notes so CI does not depend on files outside the repo.)
# Installs Mesa 25's software Vulkan driver (lavapipe) from bookworm-backports,
# so Dawn/WebGPU code can run (slowly) on a machine without a GPU. Needs root.
set -euo pipefail
if [ ! -f /etc/apt/sources.list.d/backports.sources ]; then
  uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" \
    > /etc/apt/sources.list.d/backports.sources
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
dpkg-query -W -f='${Package} ${Version}\n' mesa-vulkan-drivers
