#!/usr/bin/env bash
# Figures against the real `kubesharp server --disable-agent`: seconds from creating a Deployment to all
# replicas Ready, and the server's resident memory idle, with NODES simulated nodes, and with PODS pods on them.
# Usage: server-bench.sh [REPLICAS=1000] [NODES=5000] [PODS=50000]
set -euo pipefail
replicas=${1:-1000}
nodes=${2:-5000}
pods=${3:-50000}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d /tmp/kubesharp-server-bench.XXXXXX)
dotnet build -c Release "$root/src/Kubesharp" -o "$out/server" >/dev/null
dotnet build -c Release "$root/bench/Kubesharp.Bench.Scheduler" -o "$out/bench" >/dev/null
load() { dotnet "$out/bench/Kubesharp.Bench.Scheduler.dll" "$@"; }
pid=

start() { # start NODES [extra server flags]
  local n=$1; shift
  rm -rf "$out/data"
  dotnet "$out/server/kubesharp.dll" server --disable-agent --data-dir "$out/data" --https-port 0 \
    --simulated-nodes "$n" "$@" >"$out/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 240); do grep -q "ready at" "$out/server.log" && return 0; sleep 0.5; done
  echo "server did not start"; cat "$out/server.log"; exit 1
}
stop() { kill -TERM "$pid"; wait "$pid" || true; pid=; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
trap '[ -n "$pid" ] && kill -KILL "$pid"; rm -rf "$out"' EXIT

# 1. Deployment to all Ready, on enough nodes for the replicas (110 pods each).
deploy_nodes=$(( (replicas + 99) / 100 ))
start "$deploy_nodes"
load nodes "$out/data/kubeconfig.yaml" "$deploy_nodes"
load deploy "$out/data/kubeconfig.yaml" "$replicas"
stop

# 2. Memory: idle, with the nodes, with the pods (after a settle of 30 s each, GC'd state as it stands).
start 0
sleep 30; idle=$(rss)
stop
start "$nodes" --simulated-node-pods 110
load nodes "$out/data/kubeconfig.yaml" "$nodes"
sleep 30; with_nodes=$(rss)
load pods "$out/data/kubeconfig.yaml" "$pods"
sleep 30; with_pods=$(rss)
stop
echo "rss idle=${idle}kB nodes=$nodes:${with_nodes}kB pods=$pods:${with_pods}kB per-node=$(( (with_nodes - idle) / nodes ))kB per-pod=$(( (with_pods - with_nodes) / pods ))kB"
