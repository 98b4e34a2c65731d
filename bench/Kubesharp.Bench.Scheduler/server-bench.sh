#!/usr/bin/env bash
# Figures against the real `kubesharp server --disable-agent`: seconds from creating a Deployment to all
# replicas Ready, and the server's resident memory idle, with NODES simulated nodes, and with PODS pods on them.
# Usage: server-bench.sh [--write BENCHMARKS.md] [--no-build] [--scale] [REPLICAS=1000] [NODES=5000] [PODS=50000]
# --scale runs only the scale figure instead: NODES simulated nodes (default 5000) and one Deployment of PODS
# replicas (default 150000) in one server, the seconds until all are Ready and the server's RSS then (with --write,
# as the file's "Scale: one server" section).
# --write puts the figures into the file's "Scheduler: whole server" section; --no-build uses the Release
# outputs already built (bench/run builds the solution first). The server is the file KUBESHARP_EXECUTABLE names (the
# native executable bench/run publishes), else the JIT build.
set -euo pipefail
write=
build=1
scale=
while [ $# -gt 0 ]; do
  case "$1" in
    --write) write=$2; shift 2 ;;
    --no-build) build=; shift ;;
    --scale) scale=1; shift ;;
    *) break ;;
  esac
done
replicas=${1:-1000}
nodes=${2:-5000}
if [ -n "$scale" ]; then pods=${3:-150000}; else pods=${3:-50000}; fi
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d /tmp/kubesharp-server-bench.XXXXXX)
. "$root/bench/Kubesharp.Bench.Common/kubesharp-executable.sh"
if [ -n "$build" ]; then
  [ -n "${KUBESHARP_EXECUTABLE:-}" ] || dotnet build -c Release "$root/src/Kubesharp" -o "$out/server" >/dev/null
  dotnet build -c Release "$root/bench/Kubesharp.Bench.Scheduler" -o "$out/bench" >/dev/null
  kubesharp_executable "$out/server"
  bench_dll="$out/bench/Kubesharp.Bench.Scheduler.dll"
else
  kubesharp_executable "$root/src/Kubesharp/bin/Release/net10.0"
  bench_dll="$root/bench/Kubesharp.Bench.Scheduler/bin/Release/net10.0/Kubesharp.Bench.Scheduler.dll"
fi
echo "server: $kubesharp_exe ($kubesharp_build)"
load() { dotnet "$bench_dll" "$@"; }
pid=
loads=()

start() { # start NODES [extra server flags]
  local n=$1; shift
  rm -rf "$out/data"
  # A /24 per node: thousands of simulated nodes need a wider cluster range than the default /16.
  "$kubesharp_exe" server --disable-agent --data-dir "$out/data" --https-port 0 \
    --simulated-nodes "$n" --cluster-cidr 10.128.0.0/9 "$@" >"$out/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 240); do grep -q "ready at" "$out/server.log" && return 0; sleep 0.5; done
  echo "server did not start"; cat "$out/server.log"; exit 1
}
stop() { kill -TERM "$pid"; wait "$pid" || true; pid=; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
# The settled RSS: after a burst (nodes registering, pods starting) the GC gives its spare memory back over tens of
# seconds and the figure then swings with each collection, so wait 60 s and take the median of 7 samples 10 s apart.
settled_rss() {
  sleep 60
  local samples=()
  for _ in $(seq 1 7); do samples+=("$(rss)"); sleep 10; done
  printf '%s\n' "${samples[@]}" | sort -n | sed -n 4p
}
sample_load() { loads+=("$(cut -d' ' -f1 /proc/loadavg)"); }
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true; rm -rf "$out"' EXIT

if [ -n "$scale" ]; then
  nodes=${2:-5000}
  pods=${3:-150000}
  start "$nodes" --simulated-node-pods 110
  load nodes "$out/data/kubeconfig.yaml" "$nodes"
  with_nodes=$(rss); sample_load
  scale_line=$(load deploy "$out/data/kubeconfig.yaml" "$pods")
  echo "$scale_line"
  with_pods=$(rss); sample_load
  # Nodes must still be Ready after the pods: heartbeats kept up under the load.
  load nodes "$out/data/kubeconfig.yaml" "$nodes"
  stop
  scale_seconds=$(sed -n 's/.*all-ready-in=\([0-9.]*\)s.*/\1/p' <<<"$scale_line")
  echo "scale nodes=$nodes pods=$pods seconds=$scale_seconds rss nodes=${with_nodes}kB pods=${with_pods}kB"
  if [ -n "$write" ]; then
    load_range=$(printf '%s\n' "${loads[@]}" | sort -n | sed -n '1p;$p' | paste -sd'-' | sed 's/-/–/')
    load scale-report "$write" "$nodes" "$pods" "$scale_seconds" "$with_nodes" "$with_pods" "$load_range" "$kubesharp_build"
  fi
  exit 0
fi

# 1. Deployment to all Ready, on enough nodes for the replicas (110 pods each).
deploy_nodes=$(( (replicas + 99) / 100 ))
start "$deploy_nodes"
load nodes "$out/data/kubeconfig.yaml" "$deploy_nodes"
sample_load
deploy_line=$(load deploy "$out/data/kubeconfig.yaml" "$replicas")
echo "$deploy_line"
deploy_seconds=$(sed -n 's/.*all-ready-in=\([0-9.]*\)s.*/\1/p' <<<"$deploy_line")
sample_load
stop

# 2. Memory: idle, with the nodes, with the pods, each settled (see settled_rss).
start 0
idle=$(settled_rss)
stop
start "$nodes" --simulated-node-pods 110
load nodes "$out/data/kubeconfig.yaml" "$nodes"
with_nodes=$(settled_rss); sample_load
load pods "$out/data/kubeconfig.yaml" "$pods"
sample_load
with_pods=$(settled_rss); sample_load
# Nodes must still be Ready after the pods: heartbeats kept up under the load.
load nodes "$out/data/kubeconfig.yaml" "$nodes"
stop
echo "deploy replicas=$replicas seconds=$deploy_seconds"
echo "rss idle=${idle}kB nodes=$nodes:${with_nodes}kB pods=$pods:${with_pods}kB per-node=$(( (with_nodes - idle) / nodes ))kB per-pod=$(( (with_pods - with_nodes) / pods ))kB"
if [ -n "$write" ]; then
  load_range=$(printf '%s\n' "${loads[@]}" | sort -n | sed -n '1p;$p' | paste -sd'-' | sed 's/-/–/')
  load server-report "$write" "$replicas" "$deploy_nodes" "$deploy_seconds" "$idle" "$nodes" "$with_nodes" "$pods" "$with_pods" "$load_range" "$kubesharp_build"
fi
