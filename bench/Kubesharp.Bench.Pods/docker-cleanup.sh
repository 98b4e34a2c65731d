#!/usr/bin/env bash
# Removes what a dockerd started by the benchmark left on the host after it stopped: its iptables rules and
# chains (DOCKER*), its bridges (docker0, docker_gwbridge), mounts under its directory, then the directory.
# Usage: docker-cleanup.sh DIR
set -u
dir="${1:?usage: docker-cleanup.sh DIR}"
for table in filter nat; do
  # Rules in built-in chains that jump to docker's chains or name its bridges, deleted one by one.
  iptables-save -t "$table" | grep -E '^-A (INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) ' \
    | grep -E -- '-j DOCKER|docker0|docker_gwbridge' | sed 's/^-A /-D /' \
    | while read -r rule; do eval "iptables -t $table $rule"; done
  for chain in $(iptables-save -t "$table" | sed -n 's/^:\(DOCKER[A-Z0-9_-]*\) .*/\1/p'); do iptables -t "$table" -F "$chain"; done
  for chain in $(iptables-save -t "$table" | sed -n 's/^:\(DOCKER[A-Z0-9_-]*\) .*/\1/p'); do iptables -t "$table" -X "$chain"; done
done
for link in docker0 docker_gwbridge; do ip link delete "$link" 2>/dev/null || true; done
if [ -d "$dir" ]; then
  grep -F " $dir" /proc/self/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$dir"
fi
