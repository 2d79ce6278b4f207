#!/usr/bin/env bash
# Installs the Debian packages the tests need that are missing (idempotent: nothing to do on a
# machine that has them; otherwise one `apt-get update` and one install), bounded in time.
#   prometheus          promtool (metrics lint, rule tests) and the server of the live test
#   docker-compose      validates docker/docker-compose.db.yml and runs it against podman
#   podman, runc, …     build and run the images (docker/test/images.test.ts); runc because crun
#                       fails on this machine's hybrid cgroups (the test's containers.conf says so)
#   mmdebstrap          makes the Debian root file system of the stand-in base images
#   iproute2            `ip netns`: the compose stack gets a network namespace of its own
set -uo pipefail

packages=(prometheus docker-compose podman buildah runc mmdebstrap fuse-overlayfs slirp4netns uidmap iproute2)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  if ! (timeout 300 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends "${missing[@]}") >/tmp/ci-apt.log 2>&1; then
    tail -20 /tmp/ci-apt.log
    exit 1
  fi
fi
promtool --version 2>&1 | head -1
podman --version
docker-compose version --short
