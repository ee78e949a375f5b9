#!/usr/bin/env bash
# Installs the Debian packages a target needs, only those missing, with one apt-get update at most.
# Usage: scripts/deps.sh build|test
set -euo pipefail
build_pkgs=(build-essential python3 pkg-config libseccomp-dev busybox-static)
# apparmor: apparmor_parser loads the test profile of test/cgv2/apparmor.test.ts (in the cgv2 VM).
# criu: checkpoint/restore (conformance/checkpoint.test.ts runs it as far as the kernel lets it).
# docker.io (dockerd 20.10, the reference engine), docker-compose + python3-docker, CNI plugins, tini
# (--init), buildah (bench), golang-go (the CLI template tests compare with Go itself).
test_pkgs=(runc crun bats jq iproute2 iptables curl util-linux psmisc containerd podman docker-registry skopeo umoci attr zstd uidmap apparmor criu docker.io docker-compose python3-docker containernetworking-plugins tini buildah golang-go)
case "${1:-build}" in
  build) want=("${build_pkgs[@]}") ;;
  test) want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  *) echo "usage: $0 build|test" >&2; exit 2 ;;
esac
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "deps: missing Debian packages (${missing[*]}); run as root or install them" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
