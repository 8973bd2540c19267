#!/usr/bin/env bash
# Boot-server CPU with N simulated node agents heartbeating every 10 s (issue 6, must-show 5), against the same
# boot server idle over a window of the same length.
#
#   bench/agents-load.sh                       # 1,000 agents, 10 s interval, 30 s warm-up, 120 s windows (~6 min)
#   bench/agents-load.sh --agents 200 --window 60
#   NO_BUILD=1 bench/agents-load.sh            # use the last Release builds
#   bench/agents-load.sh --help
#
# Builds src/BootServer and bench/AgentLoad in Release, starts nekko-bootserver with its embedded etcd on loopback
# (temporary data directory, free high ports, --boot-requests-per-minute 0 so that minting 1,000 bootstrap tokens
# is not rate limited, TFTP off) pinned to core SERVER_CPU (0), and runs bench/AgentLoad pinned to CLIENT_CPU (1):
# it registers the machines, enrols each one like nekko-agent (bootstrap token from the rendered user-data + CSR of
# an ECDSA P-256 key -> client certificate), measures the idle server, then heartbeats over mTLS and measures the
# loaded server. CPU = utime+stime (+ children) of the boot server and all its descendants (its etcd) from /proc.
#
# Results: stdout and bench/results/agent-load-<UTC time>.txt (key value lines), server log beside it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
agents=1000
interval=10
warmup=30
window=120
server_cpu=${SERVER_CPU:-0}
client_cpu=${CLIENT_CPU:-1}
bootserver=${NEKKO_BENCH_BOOTSERVER:-}

usage() {
  sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<EOF

Options:
  --agents N          simulated agents (default $agents)
  --interval SECONDS  heartbeat period of each agent (default $interval)
  --warmup SECONDS    heartbeats before the measured window (default $warmup)
  --window SECONDS    measured window, idle and loaded (default $window)
  --bootserver DLL    nekko-bootserver.dll to run (default: the Release build, built first unless NO_BUILD=1)
Environment: SERVER_CPU, CLIENT_CPU (cores for taskset), NO_BUILD=1.
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --agents) agents=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --bootserver) bootserver=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "agents-load.sh: unknown argument '$1' (--help lists them)" >&2; exit 2 ;;
  esac
done

die() { echo "agents-load.sh: $*" >&2; exit 1; }
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

for v in "$agents" "$interval" "$warmup" "$window"; do [[ "$v" =~ ^[0-9]+$ ]] || die "options take whole numbers"; done

install_missing() {
  local missing=()
  [[ -x /usr/bin/etcd ]] || missing+=(etcd-server)
  command -v curl >/dev/null || missing+=(curl)
  if (( ${#missing[@]} )); then
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  fi
}

server_pid=""
work=""
cleanup() {
  stop_tree "$server_pid"
  [[ -n "$work" ]] && rm -rf "$work"
  return 0
}

main() {
  install_missing
  local built_from="(not built by this run)"
  [[ -n "$bootserver" ]] || build_bootserver "$root"
  [[ -f "$bootserver" ]] || die "no boot server at $bootserver"
  local load_dll="$root/bench/AgentLoad/bin/Release/net10.0/NekkoMetal.AgentLoad.dll"
  if [[ "${NO_BUILD:-0}" != 1 ]]; then
    log "building bench/AgentLoad (Release)"
    dotnet build "$root/bench/AgentLoad/AgentLoad.csproj" -c Release -nologo -v quiet > /dev/null || [[ -f "$load_dll" ]] ||
      die "building bench/AgentLoad failed"
  fi

  local stamp out port etcd_port i
  stamp=$(date -u +%Y%m%d-%H%M%S)
  mkdir -p "$root/bench/results"
  out="$root/bench/results/agent-load-$stamp"
  work=$(mktemp -d /tmp/nekko-agentload.XXXXXX)
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  port=$(free_port)
  etcd_port=$(free_port)
  mkdir -p "$work/data"
  log "starting nekko-bootserver on 127.0.0.1:$port (HTTPS $((port + 1)), etcd $etcd_port) on core $server_cpu"
  taskset -c "$server_cpu" dotnet "$bootserver" --data-dir "$work/data" \
    --http-url "http://127.0.0.1:$port" --https-url "https://127.0.0.1:$((port + 1))" \
    --embedded-etcd-client-port "$etcd_port" --embedded-etcd-peer-port "$((etcd_port + 1))" \
    --tftp-port 0 --boot-requests-per-minute 0 > "$out.server.log" 2>&1 &
  server_pid=$!
  for i in $(seq 1 600); do
    alive "$server_pid" || { tail -50 "$out.server.log" >&2; die "nekko-bootserver exited at start"; }
    curl -sf --noproxy '*' -o /dev/null "http://127.0.0.1:$port/health/ready" && break
    sleep 0.1
  done
  (( i < 600 )) || die "nekko-bootserver not ready after 60 s"

  {
    echo "started $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "command bench/agents-load.sh $*"
    echo "machine $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); shared with other sessions' builds and tests"
    echo "load_at_start $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "server_cpu $server_cpu"
    echo "client_cpu $client_cpu"
    echo "git_head $(git -C "$root" rev-parse --short HEAD 2>/dev/null)"
    echo "bootserver $bootserver"
    echo "bootserver_built $(date -u -r "$bootserver" +%Y-%m-%dT%H:%M:%SZ)"
    echo "bootserver_built_from $built_from"
    echo "etcd $(/usr/bin/etcd --version 2>/dev/null | head -1)"
    echo "dotnet $(dotnet --version)"
  } > "$out.txt"

  local rc=0
  taskset -c "$client_cpu" dotnet "$load_dll" --https "https://127.0.0.1:$((port + 1))" --http "http://127.0.0.1:$port" \
    --data-dir "$work/data" --server-pid "$server_pid" --agents "$agents" --interval "$interval" --warmup "$warmup" \
    --window "$window" --out "$work/load.txt" || rc=$?
  [[ -f "$work/load.txt" ]] || { tail -50 "$out.server.log" >&2; die "the load tool failed ($rc)"; }
  cat "$work/load.txt" >> "$out.txt"
  {
    echo "load_tool_exit $rc"
    echo "load_at_end $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "finished $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >> "$out.txt"
  log "results: $out.txt"
}

main "$@"
