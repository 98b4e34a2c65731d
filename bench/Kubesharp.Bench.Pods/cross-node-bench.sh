#!/usr/bin/env bash
# Pod-to-pod TCP across nodes beside the same node, on a three-machine cluster built of network namespaces (the
# multi-node end-to-end test's layout): `kubesharp server` and two `kubesharp agent`s, each in its own namespace on one
# bridge, pods linked by the VXLAN overlay. A sink pod on agent 1; a client pod on agent 1 (same node) and one on
# agent 2 (across nodes). The client and sink programs (python3 on the host) run in the pods' network namespaces
# (nsenter into the containers' PIDs), so the traffic takes the pods' path: veth, node bridge, and across nodes the
# VXLAN device, the link and the other node's bridge. Alternating rounds per path: throughput (one connection, 1 MiB
# writes) and request latency (64-byte request and reply on one connection).
# Usage: cross-node-bench.sh [--write BENCHMARKS.md] [--no-build] [--quick]
# The machines run the file KUBESHARP_EXECUTABLE names (the native executable bench/run publishes), else the JIT build.
set -euo pipefail
write=
build=1
rounds=3
seconds=4
while [ $# -gt 0 ]; do
  case "$1" in
    --write) write=$2; shift 2 ;;
    --no-build) build=; shift ;;
    --quick) rounds=2; seconds=2; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "cross-node-bench.sh: needs root (network namespaces, containerd)" >&2; exit 1; }
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/bench/Kubesharp.Bench.Common/kubesharp-executable.sh"
[ -z "$build" ] || [ -n "${KUBESHARP_EXECUTABLE:-}" ] || dotnet build -c Release "$root/src/Kubesharp" --nologo -v quiet >/dev/null
kubesharp_executable "$root/src/Kubesharp/bin/Release/net10.0"
exe=$kubesharp_exe
out=$(mktemp -d /tmp/kubesharp-cross-node.XXXXXX)
id=$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
sw="ksxb-sw-$id"
machines=(s a1 a2)
addresses=(192.168.251.1 192.168.251.2 192.168.251.3)
pids=()

cleanup() {
  set +e
  kubectl_s delete namespace xbench --wait=true --timeout=60s >/dev/null 2>&1
  for ((i=${#pids[@]}-1; i>=0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null; done
  for pid in "${pids[@]}"; do timeout 45 tail --pid="$pid" -f /dev/null; kill -KILL "$pid" 2>/dev/null; done
  # Shims of the bench's containers name its directory.
  for p in $(grep -l "$out" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do kill -KILL "$p" 2>/dev/null; done
  for m in "${machines[@]}"; do ip netns del "ksxb-$m-$id" 2>/dev/null; done
  ip netns del "$sw" 2>/dev/null
  rm -rf "$out"
}
trap cleanup EXIT

kubectl_s() { ip netns exec "ksxb-s-$id" kubectl --kubeconfig "$out/s/kubeconfig.yaml" "$@"; }

# One machine per namespace, all on a bridge in a switch namespace.
ip netns add "$sw"; ip -n "$sw" link set lo up
ip -n "$sw" link add br0 type bridge; ip -n "$sw" link set br0 up
for i in 0 1 2; do
  ns="ksxb-${machines[$i]}-$id"
  ip netns add "$ns"; ip -n "$ns" link set lo up
  ip link add "ksxv$id$i" type veth peer name "ksxw$id$i"
  ip link set "ksxw$id$i" netns "$sw"; ip link set "ksxv$id$i" netns "$ns"
  ip -n "$sw" link set "ksxw$id$i" master br0 up
  ip -n "$ns" link set "ksxv$id$i" name eth0
  ip -n "$ns" addr add "${addresses[$i]}/24" dev eth0; ip -n "$ns" link set eth0 up
done

# Runs kubesharp on a machine: its network namespace, a mount namespace whose /sys is that network's, cgroups kept.
on() {
  local m=$1; shift
  local keep="$out/cgroup-$m"; mkdir -p "$keep"
  nsenter --net="/run/netns/ksxb-$m-$id" unshare --mount --propagation slave /bin/sh -c \
    'set -eu; keep=$1; shift; mount --rbind /sys/fs/cgroup "$keep"; mount -t sysfs sysfs /sys; mount --move "$keep" /sys/fs/cgroup; exec "$@"' \
    sh "$keep" "$exe" "$@"
}

on s server --data-dir "$out/s" --advertise-address "${addresses[0]}" --disable ingress --disable servicelb --disable local-storage >"$out/s.log" 2>&1 &
pids+=($!)
until grep -q "ready at" "$out/s.log"; do sleep 0.5; kill -0 "${pids[0]}" || { cat "$out/s.log" >&2; exit 1; }; done
token=$(cat "$out/s/server/token")
for i in 1 2; do
  m=${machines[$i]}
  on "$m" agent --server "https://${addresses[0]}:6443" --token "$token" --data-dir "$out/$m" --node-name "xb-$m" --node-ip "${addresses[$i]}" >"$out/$m.log" 2>&1 &
  pids+=($!)
done

# The pods: only their network namespaces are used; the image is the pause image every node imports.
pod() { # name node
  printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: xbench}\nspec:\n  nodeName: %s\n  terminationGracePeriodSeconds: 0\n  containers:\n  - {name: c, image: docker.io/kubesharp/pause:1.0, imagePullPolicy: Never}\n---\n' "$1" "$2"
}
until [ "$(kubectl_s get nodes --no-headers 2>/dev/null | awk '$2 == "Ready"' | wc -l)" = 3 ]; do sleep 1; done
{ printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: xbench}\n---\n'; pod sink xb-a1; pod near xb-a1; pod far xb-a2; } | kubectl_s apply -f - >/dev/null
kubectl_s wait -n xbench --for=condition=Ready pod --all --timeout=180s >/dev/null

# The PID of a pod's container, by its containerd task on the pod's node.
pod_pid() { # pod machine
  local cid socket
  cid=$(kubectl_s get pod -n xbench "$1" -o jsonpath='{.status.containerStatuses[0].containerID}'); cid=${cid#containerd://}
  socket="$out/$2/containerd/containerd.sock"
  ctr --address "$socket" --namespace k8s.io tasks ls | awk -v id="$cid" '$1 == id { print $2 }'
}
sink_ip=$(kubectl_s get pod -n xbench sink -o jsonpath='{.status.podIP}')
sink_pid=$(pod_pid sink a1); near_pid=$(pod_pid near a1); far_pid=$(pod_pid far a2)

cat >"$out/sink.py" <<'PY'
import socket, threading
def serve(c):
    with c:
        if c.recv(1) == b't':
            n = 0
            while True:
                b = c.recv(1 << 20)
                if not b: break
                n += len(b)
            c.sendall(str(n).encode())
        else:
            while True:
                b = c.recv(64)
                if not b: break
                c.sendall(b)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 5201)); s.listen(16)
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
cat >"$out/client.py" <<'PY'
import socket, sys, time
ip, mode, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
c = socket.create_connection((ip, 5201)); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
if mode == "t":
    c.sendall(b"t"); block = bytes(1 << 20); start = time.perf_counter(); sent = 0
    while time.perf_counter() - start < seconds:
        c.sendall(block); sent += len(block)
    c.shutdown(socket.SHUT_WR); got = int(c.recv(64)); elapsed = time.perf_counter() - start
    print(f"{got * 8 / elapsed / 1e6:.0f}")
else:
    c.sendall(b"l"); message = bytes(64); samples = []; end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t = time.perf_counter(); c.sendall(message); n = 0
        while n < 64: n += len(c.recv(64 - n))
        samples.append((time.perf_counter() - t) * 1e6)
    samples.sort()
    print(len(samples), samples[len(samples) // 2], samples[int(len(samples) * 0.99)])
PY
nsenter --net="/proc/$sink_pid/ns/net" python3 "$out/sink.py" &
pids+=($!)
until nsenter --net="/proc/$near_pid/ns/net" python3 -c "import socket; socket.create_connection(('$sink_ip', 5201), 1)" 2>/dev/null; do sleep 0.2; done

declare -A mbps p50 p99 count
for path in near far; do mbps[$path]=""; p50[$path]=""; p99[$path]=""; count[$path]=0; done
for ((r=0; r<rounds; r++)); do
  for path in near far; do
    pid_var="${path}_pid"
    mbps[$path]+="$(nsenter --net="/proc/${!pid_var}/ns/net" python3 "$out/client.py" "$sink_ip" t "$seconds") "
    read -r n a b < <(nsenter --net="/proc/${!pid_var}/ns/net" python3 "$out/client.py" "$sink_ip" l "$seconds")
    count[$path]=$((count[$path] + n)); p50[$path]+="$a "; p99[$path]+="$b "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
declare -A m50 m99 mt
for path in near far; do
  mt[$path]=$(echo "${mbps[$path]}" | median); m50[$path]=$(echo "${p50[$path]}" | median); m99[$path]=$(echo "${p99[$path]}" | median)
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
section=$(cat <<EOF
## Pod network across nodes

Program: \`bench/Kubesharp.Bench.Pods/cross-node-bench.sh\`, as root: the real \`kubesharp server\` and two \`kubesharp agent\`s ($kubesharp_build), each in
its own network namespace on one bridge (three machines on one link), pods linked by the VXLAN overlay (MTU 1450). The client
and sink are python3 programs run in the pods' network namespaces; one TCP connection each. Throughput: 1 MiB writes for
${seconds} s; latency: a 64-byte request and its reply, back to back for ${seconds} s. Medians of ${rounds} alternating rounds. The floor
is the same pair of programs between two pods of one node (veth and bridge only).

| path | throughput (Mbit/s) | p50 latency (µs) | p99 latency (µs) | requests |
|---|---:|---:|---:|---:|
| same node (floor) | ${mt[near]} | $(printf %.0f "${m50[near]}") | $(printf %.0f "${m99[near]}") | ${count[near]} |
| across nodes (VXLAN) | ${mt[far]} | $(printf %.0f "${m50[far]}") | $(printf %.0f "${m99[far]}") | ${count[far]} |
| ratio across / same | $(ratio "${mt[far]}" "${mt[near]}") | $(ratio "${m50[far]}" "${m50[near]}") | $(ratio "${m99[far]}" "${m99[near]}") | |
EOF
)
echo "$section"
if [ -n "$write" ]; then
  SECTION="$section" python3 - "$write" <<'PY'
import os, re, sys
path = sys.argv[1]; section = os.environ["SECTION"].rstrip() + "\n"
text = open(path).read() if os.path.exists(path) else ""
heading = section.splitlines()[0]
pattern = re.compile(re.escape(heading) + r"\n.*?(?=\n## |\Z)", re.S)
text = pattern.sub(lambda m: section.rstrip("\n"), text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text if text.endswith("\n") else text + "\n")
PY
fi
