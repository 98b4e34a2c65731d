#!/usr/bin/env bash
# Runs the whole test suite. As root on Debian it first installs the system packages the tests use: what a
# node needs (node-packages.txt, the launcher's list, etcd included) plus a registry (and htpasswd for its credentials), nftables, curl and the official
# Python client (an independent client the end-to-end tests drive), and headless Chromium for the dashboard's tests;
# and what the native compile needs (build-packages.txt, the launcher's too), for the executable the tests run.
# ./test.sh --print-packages lists them and exits.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

mapfile -t packages < <(sed -e 's/#.*//' node-packages.txt build-packages.txt | awk 'NF { print $1 }')
packages+=(docker-registry apache2-utils nftables curl python3-kubernetes chromium)
if [ "${1:-}" = "--print-packages" ]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

dotnet build Kubesharp.slnx -c Release --nologo -v quiet

# The tests that start kubesharp run the file KUBESHARP_EXECUTABLE names: the native (ahead-of-time compiled)
# executable, as the launcher builds it, so trimming and AOT breaks fail here. Unset, they run the JIT build.
native="$(mktemp -d "${TMPDIR:-/tmp}/kubesharp-native.XXXXXX")"
trap 'rm -rf "$native"' EXIT
dotnet publish src/Kubesharp/Kubesharp.csproj -c Release -r linux-x64 -p:PublishAot=true -o "$native" --nologo -v quiet
export KUBESHARP_EXECUTABLE="$native/kubesharp"

# One test project at a time: several of them start their own containerd, etcd or network namespaces,
# and the machine is small; sequential runs keep them from competing for the same resources.
failed=()
for project in test/*Tests/*.csproj; do
  echo "== $(basename "$project" .csproj)"
  # A test stuck for ten minutes is named and its project failed, instead of holding the run until CI's limit.
  dotnet test "$project" -c Release --no-build --nologo --blame-hang-timeout 10m --blame-hang-dump-type none "$@" || failed+=("$(basename "$project" .csproj)")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
