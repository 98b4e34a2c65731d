#!/usr/bin/env bash
# A fresh Debian 12 machine, end to end. Builds a bookworm root with debootstrap (the Debian archive's default set,
# plus sudo; no .NET, no container runtime), copies this repository into /root/kubesharp, enters the root in its own
# mount, PID, UTS, IPC, cgroup and network namespaces (the network reaches out through NAT) and runs the README's first
# command there: `sudo ./kubesharp server`. It passes when the node turns Ready (kubectl get nodes) and
# `kubesharp images import ARCHIVE --data-dir /var/lib/kubesharp` puts an image into the node's containerd.
# Everything it made (namespaces, link, NAT rule, cgroups, processes, the root) is gone when it ends.
#
#   sudo test/fresh-machine.sh
#
# Needs root, debootstrap, iproute2, iptables and a few GB under /var/tmp; downloads Debian packages, the .NET SDK
# and NuGet packages (several hundred MB), so CI does not run it. DEBIAN_MIRROR overrides the mirror (default: the
# first one this machine's apt uses). Where Microsoft's .NET feed cannot be reached, this machine's own SDK is served
# as the feed (the launcher's KUBESHARP_DOTNET_FEED) and is the only thing given to the fresh machine.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ "$(id -u)" = 0 ] || { echo "fresh-machine: run as root" >&2; exit 2; }
for tool in debootstrap ip iptables unshare chroot; do
  command -v "$tool" >/dev/null || { echo "fresh-machine: $tool is missing (apt-get install debootstrap iproute2 iptables)" >&2; exit 2; }
done

mirror="${DEBIAN_MIRROR:-$( (grep -hsoE '(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/* || true) | awk '{ print $2 }' | head -n 1)}"
mirror="${mirror:-http://deb.debian.org/debian}"
channel="$(sed -n 's/.*"version": *"\([0-9]*\.[0-9]*\)\..*/\1/p' "$repo/global.json" | head -n 1)"
id="ksfresh$$"
octet=$(( $$ % 250 + 1 ))
host_ip="10.251.$octet.1"
guest_ip="10.251.$octet.2"
subnet="10.251.$octet.0/30"
work="$(mktemp -d /var/tmp/kubesharp-fresh.XXXXXX)"
root="$work/root"
feed_pid=""
inner_pid=""
nat=""
cgroups=()

log() { echo "fresh-machine: $*" >&2; }

cleanup() {
  set +e
  # The namespace's first process takes every other one in it along when it ends.
  [ -z "$inner_pid" ] || { kill -KILL "$inner_pid" 2>/dev/null; wait "$inner_pid" 2>/dev/null; }
  for pid in $(ip netns pids "$id" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
  [ -z "$feed_pid" ] || { kill "$feed_pid" 2>/dev/null; wait "$feed_pid" 2>/dev/null; }
  [ -z "$nat" ] || iptables -t nat -D POSTROUTING -s "$subnet" ! -o "${id}h" -j MASQUERADE
  ip link del "${id}h" 2>/dev/null
  ip netns del "$id" 2>/dev/null
  # Cgroups the node made inside the namespace's own, deepest first.
  for cgroup in "${cgroups[@]}"; do
    [ -d "$cgroup" ] && find "$cgroup" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

log "debootstrap bookworm from $mirror into $root"
debootstrap --include=sudo bookworm "$root" "$mirror" > "$work/debootstrap.log" 2>&1 || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }

log "copying the repository (tracked and new files) into /root/kubesharp"
mkdir -p "$root/root/kubesharp"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -c --ignore-failed-read 2>/dev/null) | tar -C "$root/root/kubesharp" -x

# What the check needs beside the machine: kubectl (the user's client), an image archive, the steps run inside.
tools="$work/tools"
mkdir -p "$tools" "$root/opt/fresh-test"
cp "$(command -v kubectl)" "$tools/kubectl"

# An OCI layout archive of one small image, made from files alone.
image="$work/image"
mkdir -p "$image/blobs/sha256" "$image/layer"
echo "fresh machine" > "$image/layer/hello.txt"
tar -C "$image/layer" -cf "$image/layer.tar" hello.txt
blob() { local d; d="$(sha256sum "$1" | cut -d' ' -f1)"; cp "$1" "$image/blobs/sha256/$d"; echo "$d"; }
layer="$(blob "$image/layer.tar")"
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/hello.txt"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$layer" > "$image/config.json"
config="$(blob "$image/config.json")"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%d}]}' \
  "$config" "$(stat -c %s "$image/config.json")" "$layer" "$(stat -c %s "$image/layer.tar")" > "$image/manifest.json"
manifest="$(blob "$image/manifest.json")"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"io.containerd.image.name":"docker.io/library/fresh-test:1","org.opencontainers.image.ref.name":"1"}}]}' \
  "$manifest" "$(stat -c %s "$image/manifest.json")" > "$image/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$image/oci-layout"
tar -C "$image" -cf "$tools/app.tar" oci-layout index.json blobs

log "network namespace $id ($guest_ip, NAT through $host_ip)"
ip netns add "$id"
ip link add "${id}h" type veth peer name "${id}g"
ip link set "${id}g" netns "$id"
ip addr add "$host_ip/30" dev "${id}h"
ip link set "${id}h" up
ip -n "$id" addr add "$guest_ip/30" dev "${id}g"
ip -n "$id" link set "${id}g" name eth0
ip -n "$id" link set eth0 up
ip -n "$id" link set lo up
ip -n "$id" route add default via "$host_ip"
iptables -t nat -A POSTROUTING -s "$subnet" ! -o "${id}h" -j MASQUERADE
nat=1
[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || { log "IPv4 forwarding is off on this machine; the fresh machine would have no network"; exit 1; }
# A fresh machine gets its resolver from the installer (or DHCP); this one gets the host's, and the certificate
# authorities this machine's network needs (a TLS-intercepting egress proxy's), which ca-certificates takes in.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
echo "fresh-debian" > "$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 fresh-debian\n' > "$root/etc/hosts"

environment=""
if ! curl -fsS -m 15 -o /dev/null "https://builds.dotnet.microsoft.com/dotnet/Sdk/$channel/latest.version" 2>/dev/null; then
  sdk="$(dotnet --list-sdks 2>/dev/null | awk -v c="$channel." 'index($1, c) == 1 { v = $1 } END { print v }')"
  [ -n "$sdk" ] || { log "Microsoft's .NET feed is unreachable and this machine has no $channel SDK to serve instead"; exit 1; }
  dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
  log "Microsoft's .NET feed is unreachable: serving this machine's SDK $sdk ($dotnet_root) as the feed"
  mkdir -p "$work/feed/Sdk/$channel" "$work/feed/Sdk/$sdk"
  echo "$sdk" > "$work/feed/Sdk/$channel/latest.version"
  tar -C "$dotnet_root" -c . | gzip -1 > "$work/feed/Sdk/$sdk/dotnet-sdk-$sdk-linux-x64.tar.gz"
  port=$(( 20000 + $$ % 20000 ))
  python3 -m http.server --bind "$host_ip" --directory "$work/feed" "$port" > "$work/feed.log" 2>&1 &
  feed_pid=$!
  environment="KUBESHARP_DOTNET_FEED=http://$host_ip:$port"
fi

# The steps on the fresh machine: the README's command, then the checks.
cat > "$tools/inside.sh" <<EOF
#!/bin/bash
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
cd /root/kubesharp
echo "+ sudo $environment ./kubesharp server"
sudo $environment ./kubesharp server > /root/server.log 2>&1 &
server=\$!
export KUBECONFIG=/var/lib/kubesharp/kubeconfig.yaml
ready=""
for i in \$(seq 1 720); do
  kill -0 \$server 2>/dev/null || { echo "the server exited:"; tail -n 60 /root/server.log; exit 1; }
  if [ -f "\$KUBECONFIG" ] && /opt/fresh-test/kubectl get nodes --no-headers 2>/dev/null | awk '\$2 == "Ready" { found = 1 } END { exit !found }'; then
    ready=1
    break
  fi
  sleep 5
done
[ -n "\$ready" ] || { echo "no node turned Ready within an hour:"; tail -n 60 /root/server.log; exit 1; }
/opt/fresh-test/kubectl get nodes -o wide
echo "+ ./kubesharp images import app.tar --data-dir /var/lib/kubesharp"
./kubesharp images import /opt/fresh-test/app.tar --data-dir /var/lib/kubesharp
ctr --address /var/lib/kubesharp/agent/containerd/containerd.sock -n k8s.io images ls -q | grep -x docker.io/library/fresh-test:1
echo "fresh machine: node Ready, image imported"
kill \$server
wait \$server || true
EOF
chmod +x "$tools/inside.sh"

# Its own cgroup in every hierarchy, made the cgroup namespace's root: the node's pod cgroups stay under it.
self_cgroups="$(cat /proc/self/cgroup)"
mounts=()
while read -r _ dir type options _; do
  [ "$type" = cgroup ] || [ "$type" = cgroup2 ] || continue
  if [ "$type" = cgroup ]; then
    controllers="$(tr ',' '\n' <<< "$options" | grep -vxE 'rw|ro|relatime|nosuid|nodev|noexec' | paste -sd, -)"
    key="$controllers"
  else
    controllers=""
    key=""
  fi
  parent="$(awk -F: -v k="$key" '$2 == k { print $3 }' <<< "$self_cgroups" | head -n 1)"
  cgroup="$dir${parent%/}/$id"
  mkdir "$cgroup"
  cgroups+=("$cgroup")
  if [ -f "$cgroup/cpuset.cpus" ]; then
    cat "$(dirname "$cgroup")/cpuset.cpus" > "$cgroup/cpuset.cpus"
    cat "$(dirname "$cgroup")/cpuset.mems" > "$cgroup/cpuset.mems"
  fi
  mounts+=("$(basename "$dir") $type ${controllers:-none}")
done < /proc/self/mounts

enter="$work/enter.sh"
{
  echo 'set -euo pipefail'
  echo "r='$root'"
  echo 'mount -t proc proc "$r/proc"; mount -t sysfs sysfs "$r/sys"; mount -t tmpfs -o mode=755 tmpfs "$r/sys/fs/cgroup"'
  for m in "${mounts[@]}"; do
    read -r name type controllers <<< "$m"
    echo "mkdir -p \"\$r/sys/fs/cgroup/$name\""
    [ "${controllers#name=}" = "$controllers" ] || controllers="none,$controllers"
    if [ "$type" = cgroup2 ]; then
      echo "mount -t cgroup2 cgroup2 \"\$r/sys/fs/cgroup/$name\""
    else
      echo "mount -t cgroup -o $controllers cgroup \"\$r/sys/fs/cgroup/$name\""
    fi
  done
  echo 'mount --rbind /dev "$r/dev"; mount -t tmpfs tmpfs "$r/run"; mount -t tmpfs tmpfs "$r/tmp"'
  echo "mount --bind '$tools' \"\$r/opt/fresh-test\""
  echo 'hostname fresh-debian'
  echo 'exec chroot "$r" /opt/fresh-test/inside.sh'
} > "$enter"

log "entering the fresh machine"
(
  for cgroup in "${cgroups[@]}"; do echo "$BASHPID" > "$cgroup/cgroup.procs"; done
  exec ip netns exec "$id" unshare --mount --propagation private --pid --fork --kill-child --uts --ipc --cgroup bash "$enter"
) > "$work/inside.log" 2>&1 &
inner_pid=$!
tail -n +1 -f --pid="$inner_pid" "$work/inside.log" >&2 &
wait "$inner_pid" || true
inner_pid=""
grep -q "^fresh machine: node Ready, image imported" "$work/inside.log" || { log "failed"; exit 1; }
log "passed"
