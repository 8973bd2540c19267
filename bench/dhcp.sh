#!/usr/bin/env bash
# DHCPv4 DORA under perfdhcp: nekko-bootserver against Kea and dnsmasq, interleaved in one run (issue 3, Must show 5).
#
#   bench/dhcp.sh                          # rates 1000, 5000 and flood; each server once per rate (~3 min)
#   bench/dhcp.sh --repeat 3               # three interleaved rounds; the summary takes medians (~8 min)
#   bench/dhcp.sh --rates "1000 flood" --servers "ours kea"
#   NO_BUILD=1 bench/dhcp.sh               # use the last Release build of the boot server
#   bench/dhcp.sh --help
#
# Needs root (network namespaces, raw sockets, port 67). Installs what is missing: kea-dhcp4-server (the peer),
# kea-admin (ships perfdhcp), dnsmasq-base (the dnsmasq binary without the package's system service),
# etcd-server and etcd-client (our server's embedded etcd; etcdctl counts its leases). The Kea package's own
# service is stopped and disabled: nothing but this script's own processes may answer DHCP.
#
# Topology (shared/BENCH.md): two namespaces joined by a veth, server 10.213.0.1/16, client 10.213.0.2/16.
# perfdhcp always acts as a relay: it sends from 10.213.0.2:67 with giaddr 10.213.0.2 and takes replies there.
# The server is pinned to one core (SERVER_CPU, default 0) and perfdhcp to the other (CLIENT_CPU, default 1).
# Every run starts its server with fresh state (new data directory / lease file) and stops it afterwards.
#
# Results: a table on stdout, bench/results/dhcp-<UTC time>.json and .csv, and each run's perfdhcp output and
# server log under bench/results/dhcp-<UTC time>/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
here="$root/bench/dhcp"

rates="1000 5000 flood"
servers="ours kea dnsmasq"
repeat=1
bootserver=${NEKKO_BENCH_BOOTSERVER:-}
deadline=${DHCP_BENCH_DEADLINE:-780}   # seconds; no new run starts after this
quiet_wait=${DHCP_BENCH_QUIET_WAIT:-10} # seconds to wait before each run for the machine to be idle
warmup=${DHCP_BENCH_WARMUP:-2000}       # DORAs at 200/s to warm our server's JIT before each measured run
server_cpu=${SERVER_CPU:-0}
client_cpu=${CLIENT_CPU:-1}

usage() {
  sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<EOF

Options:
  --rates "R ..."      offered DORA/s per run; "flood" = no -r (default: "$rates")
  --servers "S ..."    any of ours kea dnsmasq, run in this order, rotated each rate (default: "$servers")
  --repeat N           rounds over all rates and servers (default: $repeat)
  --bootserver DLL     nekko-bootserver.dll to run (default: src/BootServer/bin/Release/net10.0/, built first
                       unless NO_BUILD=1; also NEKKO_BENCH_BOOTSERVER)
  --deadline SECONDS   start no run after this many seconds (default: $deadline; DHCP_BENCH_DEADLINE)
  --warmup N           before each measured run of ours, N DORAs at 200/s (default: $warmup; 0 = none), then its
                       leases are deleted from etcd: .NET's tiered JIT is still compiling during the first tens
                       of seconds of traffic, which a long-running server has behind it (also DHCP_BENCH_WARMUP).
                       The warm-up also checks that our server answers relayed DORA at all.
  --quiet-wait SECONDS before each run, wait up to this long for a second in which other processes use less
                       than a quarter of a core (default: $quiet_wait; 0 = do not wait; DHCP_BENCH_QUIET_WAIT).
                       Runs taken while the machine was busy anyway are flagged "busy" in the table.
Environment: SERVER_CPU, CLIENT_CPU (cores for taskset), NO_BUILD=1.
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --rates) rates=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --bootserver) bootserver=$2; shift 2 ;;
    --deadline) deadline=$2; shift 2 ;;
    --quiet-wait) quiet_wait=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "dhcp.sh: unknown argument '$1' (--help lists them)" >&2; exit 2 ;;
  esac
done

die() { echo "dhcp.sh: $*" >&2; exit 1; }
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

[[ $(id -u) == 0 ]] || die "needs root: network namespaces, raw sockets and port 67"
[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || die "--repeat must be a positive integer"
[[ "$quiet_wait" =~ ^[0-9]+$ && "$deadline" =~ ^[0-9]+$ ]] || die "--quiet-wait and --deadline take whole seconds"
[[ "$warmup" =~ ^[0-9]+$ ]] || die "--warmup takes a number of exchanges"
for r in $rates; do [[ "$r" == flood || "$r" =~ ^[1-9][0-9]*$ ]] || die "bad rate '$r'"; done
for s in $servers; do [[ "$s" == ours || "$s" == kea || "$s" == dnsmasq ]] || die "unknown server '$s'"; done
(( $(nproc) >= 2 )) || log "warning: fewer than 2 cores: server and perfdhcp will share one"

# ---------------------------------------------------------------------------------------------------------------
# Fixed parameters (shared/BENCH.md): every exchange a new client (-R 1000000), 10 s test period, 1 s drop time,
# 1 s exit wait; paced runs -n RATE*10, flood capped at -n 60000 so the /16 pool is not drained.
readonly NS_SRV=nekko-dhcpbench-srv NS_CLI=nekko-dhcpbench-cli IFACE=dhcpbench0
readonly SRV_ADDR=10.213.0.1 CLI_ADDR=10.213.0.2 PREFIX_LEN=16
readonly TEST_PERIOD=10 DROP_TIME=1 EXIT_WAIT_US=1000000 CLIENTS=1000000 FLOOD_MAX=60000
readonly HZ=$(getconf CLK_TCK)

# ---------------------------------------------------------------------------------------------------------------
# Packages
peer_services=(kea-dhcp4-server)

quiet_peer_services() {
  # The Kea package enables (and, where policy allows, starts) a system kea-dhcp4 on install: stop and disable it.
  local svc
  for svc in "${peer_services[@]}"; do
    [[ -e /lib/systemd/system/$svc.service || -x /etc/init.d/$svc ]] || continue
    if systemctl is-enabled --quiet "$svc" 2>/dev/null; then
      log "disabling the $svc system service (the bench starts its own peers)"
      systemctl disable --quiet "$svc" 2>/dev/null || true
    fi
    if [[ -d /run/systemd/system ]]; then
      if systemctl is-active --quiet "$svc" 2>/dev/null; then
        log "stopping the $svc system service"
        systemctl stop "$svc"
      fi
    elif [[ -x /etc/init.d/$svc ]] && /etc/init.d/"$svc" status >/dev/null 2>&1; then
      log "stopping the $svc system service"
      /etc/init.d/"$svc" stop >/dev/null 2>&1 || true
    fi
  done
}

install_missing() {
  local need=()
  command -v perfdhcp >/dev/null || need+=(kea-admin)
  command -v kea-dhcp4 >/dev/null || need+=(kea-dhcp4-server)
  command -v dnsmasq >/dev/null || need+=(dnsmasq-base)
  [[ -x /usr/bin/etcd ]] || need+=(etcd-server)
  command -v etcdctl >/dev/null || need+=(etcd-client)
  command -v curl >/dev/null || need+=(curl)
  command -v taskset >/dev/null || need+=(util-linux)
  command -v python3 >/dev/null || need+=(python3)
  if (( ${#need[@]} > 0 )); then
    log "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "${need[@]}" >/dev/null; then
      apt-get update >/dev/null
      apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
    fi
  fi
  quiet_peer_services
}

# ---------------------------------------------------------------------------------------------------------------
# Process bookkeeping: every process this script starts is remembered by id and ended by id.
current_pid=""



own_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' /proc/"$1"/stat 2>/dev/null || echo 0; }

load1() { cut -d' ' -f1 /proc/loadavg; }

wait_quiet() {    # up to $quiet_wait s for one second in which the machine's busy time is under 1/4 core
  local until=$(( $(date +%s) + quiet_wait )) a b
  while (( $(date +%s) < until )); do
    a=$(system_busy_ticks)
    sleep 1
    b=$(system_busy_ticks)
    (( (b - a) * 4 < HZ )) && return 0
  done
  (( quiet_wait == 0 )) || log "the machine is busy (other processes): running anyway, the run will be flagged"
}





work=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_tree "$current_pid"
  kill_namespace_leftovers
  sleep 0.2
  delete_namespaces
  [[ -n "$work" && -d "$work" ]] && rm -rf "$work"
  exit "$rc"
}

setup_namespaces() {
  delete_namespaces   # stale ones from a killed run (the lock below says no other run is active)
  ip netns add "$NS_SRV"
  ip netns add "$NS_CLI"
  ip link add "$IFACE" netns "$NS_SRV" type veth peer name "$IFACE" netns "$NS_CLI"
  ip -n "$NS_SRV" addr add "$SRV_ADDR/$PREFIX_LEN" dev "$IFACE"
  ip -n "$NS_CLI" addr add "$CLI_ADDR/$PREFIX_LEN" dev "$IFACE"
  local ns
  for ns in "$NS_SRV" "$NS_CLI"; do
    ip -n "$ns" link set lo up
    ip -n "$ns" link set "$IFACE" up
  done
  # a veth is up once both ends are: wait for the carrier
  for _ in $(seq 1 50); do
    ip -n "$NS_CLI" link show "$IFACE" | grep -q 'state UP' && return 0
    sleep 0.1
  done
  die "the veth between $NS_SRV and $NS_CLI did not come up"
}

# ---------------------------------------------------------------------------------------------------------------
# Servers. Each start_* leaves the server's pid in current_pid and returns once it listens on UDP 67.
# Servers are started with a plain `ip netns exec ... &` (not through this function): ip and taskset exec the
# server, so $! is the server's own pid.
in_srv() { ip netns exec "$NS_SRV" "$@"; }

render() { sed -e "s|@IFACE@|$IFACE|g" -e "s|@DIR@|$2|g" "$1"; }

wait_udp67() {
  local pid=$1 name=$2 i
  for i in $(seq 1 300); do
    alive "$pid" || return 1
    in_srv ss -Hlun 'sport = :67' | grep -q . && return 0
    sleep 0.1
  done
  log "$name does not listen on UDP 67 after 30 s"
  return 1
}

start_kea() {
  local dir=$1
  render "$here/kea-dhcp4.json.in" "$dir" > "$dir/kea-dhcp4.json"
  # pid and lock files in the run directory, not /run/kea (where the packaged service keeps its own)
  in_srv env KEA_PIDFILE_DIR="$dir" KEA_LOCKFILE_DIR="$dir" kea-dhcp4 -t "$dir/kea-dhcp4.json" > "$dir/kea-check.log" 2>&1 ||
    { cat "$dir/kea-check.log" >&2; die "Kea rejects bench/dhcp/kea-dhcp4.json.in"; }
  ip netns exec "$NS_SRV" env KEA_PIDFILE_DIR="$dir" KEA_LOCKFILE_DIR="$dir" \
    taskset -c "$server_cpu" kea-dhcp4 -c "$dir/kea-dhcp4.json" > "$dir/server.log" 2>&1 &
  current_pid=$!
  wait_udp67 "$current_pid" kea-dhcp4 || { cat "$dir/server.log" >&2; die "kea-dhcp4 did not start"; }
}

start_dnsmasq() {
  local dir=$1
  render "$here/dnsmasq.conf.in" "$dir" > "$dir/dnsmasq.conf"
  : > "$dir/dnsmasq.leases"
  ip netns exec "$NS_SRV" taskset -c "$server_cpu" dnsmasq --keep-in-foreground --conf-file="$dir/dnsmasq.conf" > "$dir/server.log" 2>&1 &
  current_pid=$!
  wait_udp67 "$current_pid" dnsmasq || { cat "$dir/server.log" "$dir/dnsmasq.log" >&2; die "dnsmasq did not start"; }
}

start_ours() {
  local dir=$1 i token code
  mkdir -p "$dir/data"
  # Embedded etcd (the default): the boot server starts /usr/bin/etcd as its child, on 127.0.0.1:12379 of the
  # server namespace, with its data under DATA_DIR; the child inherits the taskset pinning.
  ip netns exec "$NS_SRV" taskset -c "$server_cpu" dotnet "$bootserver" \
    --data-dir "$dir/data" --http-url "http://$SRV_ADDR:8080" --https-url "https://$SRV_ADDR:8443" --tftp-port 0 \
    --dhcp-interfaces "$IFACE=authoritative" > "$dir/server.log" 2>&1 &
  current_pid=$!
  for i in $(seq 1 600); do
    alive "$current_pid" || { cat "$dir/server.log" >&2; die "nekko-bootserver exited at start"; }
    in_srv curl -sf --noproxy '*' -o /dev/null "http://$SRV_ADDR:8080/health/ready" && break
    sleep 0.1
  done
  (( i < 600 )) || { cat "$dir/server.log" >&2; die "nekko-bootserver not ready after 60 s"; }
  token=$(cat "$dir/data/admin.token")
  code=$(in_srv curl -sS --noproxy '*' --cacert "$dir/data/ca.pem" -o "$dir/ipam-response.json" -w '%{http_code}' -X PUT \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data-binary @"$here/ipam.json" "https://$SRV_ADDR:8443/api/v1/ipam")
  [[ "$code" == 200 ]] || { cat "$dir/ipam-response.json" >&2; die "PUT /api/v1/ipam answered $code"; }
  wait_udp67 "$current_pid" nekko-bootserver || { cat "$dir/server.log" >&2; die "nekko-bootserver does not serve DHCP"; }
  sleep 1   # the IPAM change reaches the server's watch-fed cache
  (( warmup > 0 )) || return 0

  # Warm-up, same load shape at 200/s (which it sustains), then back to an empty lease table: the leases and the
  # boot progress records the warm-up created are deleted from etcd (the server's cache follows through its watch).
  local acks
  ip netns exec "$NS_CLI" taskset -c "$client_cpu" perfdhcp -4 -l "$CLI_ADDR" -R "$CLIENTS" -p "$TEST_PERIOD" \
    -d "$DROP_TIME" -W "$EXIT_WAIT_US" -r 200 -n "$warmup" "$SRV_ADDR" > "$dir/warmup-perfdhcp.out" 2>&1 || true
  acks=$(awk -f "$here/perfdhcp.awk" "$dir/warmup-perfdhcp.out" | awk '$1 == "ra_received" { print $2 + 0 }')
  if (( ${acks:-0} == 0 )); then
    cat "$dir/warmup-perfdhcp.out" "$dir/server.log" >&2
    die "nekko-bootserver acknowledged none of the $warmup warm-up exchanges (perfdhcp output and server log above)"
  fi
  (( acks * 10 >= warmup * 9 )) || log "warm-up: only $acks of $warmup exchanges acknowledged"
  local prefix
  for prefix in /nekko/dhcp/leases/ /nekko/progress/; do
    in_srv env ETCDCTL_API=3 etcdctl --endpoints "http://127.0.0.1:12379" del --prefix "$prefix" > /dev/null
  done
  sleep 1
}

# Leases the server holds at the end of a run, read from its own store (for ours: bound leases in etcd).
count_leases() {
  local server=$1 dir=$2
  case "$server" in
    kea) [[ -f "$dir/kea-leases4.csv" ]] && tail -n +2 "$dir/kea-leases4.csv" | wc -l || echo 0 ;;
    dnsmasq) wc -l < "$dir/dnsmasq.leases" ;;
    ours) in_srv env ETCDCTL_API=3 etcdctl --endpoints "http://127.0.0.1:12379" --command-timeout=30s \
            get --prefix /nekko/dhcp/leases/ --print-value-only 2>/dev/null | grep -c '"state":"bound"' || true ;;
  esac
}

versions() {
  echo "kea=$(kea-dhcp4 -v 2>/dev/null | head -1)"
  echo "dnsmasq=$(dnsmasq --version 2>/dev/null | head -1 | awk '{ print $3 }')"
  echo "perfdhcp=$(perfdhcp -v 2>&1 | head -1 | awk '{ print $NF }')"
  echo "etcd=$(/usr/bin/etcd --version 2>/dev/null | awk '/etcd Version/ { print $3 }')"
  echo "dotnet=$(dotnet --version 2>/dev/null)"
}

# ---------------------------------------------------------------------------------------------------------------
# One run: fresh server, perfdhcp at one rate, CPU and load around it, server stopped.
run_one() {
  local server=$1 rate=$2 round=$3 dir=$4
  local n args perf_out
  mkdir -p "$dir"
  chmod 755 "$dir"
  if [[ "$rate" == flood ]]; then n=$FLOOD_MAX; args=(); else n=$(( rate * 10 )); args=(-r "$rate"); fi

  wait_quiet
  "start_$server" "$dir"
  local pid=$current_pid

  local load_before ticks0 own0 busy0 ticks1 own1 busy1 load_after t0 t1
  load_before=$(load1)
  ticks0=$(tree_ticks "$pid")
  own0=$(own_ticks "$pid")
  busy0=$(system_busy_ticks)
  t0=$(date +%s.%N)
  perf_out="$dir/perfdhcp.out"
  local TIMEFORMAT='%R %U %S' rc=0
  # perfdhcp exits 3 when packets were dropped: that is a result, not an error
  { time timeout 120 ip netns exec "$NS_CLI" taskset -c "$client_cpu" perfdhcp -4 -l "$CLI_ADDR" \
      -R "$CLIENTS" -p "$TEST_PERIOD" -d "$DROP_TIME" -W "$EXIT_WAIT_US" "${args[@]}" -n "$n" "$SRV_ADDR" \
      > "$perf_out" 2>&1 ; } 2> "$dir/perfdhcp.time" || rc=$?
  [[ $rc == 0 || $rc == 3 ]] || log "perfdhcp exited with status $rc (see $perf_out)"
  t1=$(date +%s.%N)
  ticks1=$(tree_ticks "$pid")
  own1=$(own_ticks "$pid")
  busy1=$(system_busy_ticks)
  load_after=$(load1)
  alive "$pid" || log "$server exited during the run (see $dir/server.log)"

  # ours: count in etcd while it runs; the peers: count their lease files once they have stopped (dnsmasq may
  # still be rewriting its file from a backlog of requests when perfdhcp exits)
  local stored=""
  [[ "$server" == ours ]] && stored=$(count_leases "$server" "$dir")
  stop_tree "$pid"
  current_pid=""
  [[ "$server" == ours ]] || stored=$(count_leases "$server" "$dir")

  local perf_wall perf_user perf_sys
  read -r perf_wall perf_user perf_sys < "$dir/perfdhcp.time"
  {
    echo "server $server"
    echo "rate $rate"
    echo "round $round"
    echo "requests $n"
    awk -f "$here/perfdhcp.awk" "$perf_out"
    awk -v t0="$t0" -v t1="$t1" -v w="$EXIT_WAIT_US" -v k0="$ticks0" -v k1="$ticks1" -v hz="$HZ" \
        -v o0="$own0" -v o1="$own1" -v pu="$perf_user" -v ps="$perf_sys" -v b0="$busy0" -v b1="$busy1" 'BEGIN {
      printf "wall_s %.3f\nexit_wait_s %.3f\nserver_cpu_s %.2f\nserver_main_cpu_s %.2f\nserver_children_cpu_s %.2f\n",
        t1 - t0, w / 1e6, (k1 - k0) / hz, (o1 - o0) / hz, ((k1 - k0) - (o1 - o0) > 0 ? (k1 - k0) - (o1 - o0) : 0) / hz
      printf "perfdhcp_cpu_s %.2f\nsystem_busy_s %.2f\n", pu + ps, (b1 - b0) / hz }'
    echo "load1_before $load_before"
    echo "load1_after $load_after"
    echo "leases_stored $stored"
  } > "$dir/metrics.txt"
  # keep what explains a run, not the lease databases
  rm -rf "$dir/data" "$dir/kea-leases4.csv" "$dir/dnsmasq.leases"
}

# ---------------------------------------------------------------------------------------------------------------
main() {
  local lock=/run/lock/nekko-dhcp-bench.lock
  [[ -d /run/lock ]] || lock=/tmp/nekko-dhcp-bench.lock
  exec 9> "$lock"
  flock -n 9 || die "another bench/dhcp.sh is running"

  install_missing

  local built_from="(not built by this run)"
  if [[ " $servers " == *" ours "* ]]; then
    [[ -n "$bootserver" ]] || build_bootserver "$root"
    [[ -f "$bootserver" ]] || die "no boot server at $bootserver"
  fi

  local stamp results
  stamp=$(date -u +%Y%m%d-%H%M%S)
  mkdir -p "$root/bench/results"
  results="$root/bench/results/dhcp-$stamp"
  mkdir -p "$results"
  work=$(mktemp -d /tmp/nekko-dhcpbench.XXXXXX)
  chmod 755 "$work"
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  setup_namespaces

  {
    echo "started $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "load_at_start $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "cores $(nproc)"
    echo "cpu_model $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "server_cpu $server_cpu"
    echo "client_cpu $client_cpu"
    echo "git_head $(git -C "$root" rev-parse --short HEAD 2>/dev/null)"
    if [[ -n "$bootserver" ]]; then
      echo "bootserver $bootserver"
      echo "bootserver_built $(date -u -r "$bootserver" +%Y-%m-%dT%H:%M:%SZ)"
      echo "bootserver_built_from $built_from"
    fi
    versions | sed 's/=/ /'
    echo "perfdhcp_args -4 -l $CLI_ADDR -R $CLIENTS -p $TEST_PERIOD -d $DROP_TIME -W $EXIT_WAIT_US [-r RATE] -n RATE*10|$FLOOD_MAX $SRV_ADDR"
  } > "$results/meta.txt"
  log "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

  local begin round r s i order=() dir
  begin=$(date +%s)
  read -r -a order <<< "$servers"
  local k=0
  for round in $(seq 1 "$repeat"); do
    for r in $rates; do
      # interleave: the order of servers rotates from one rate to the next, so none always runs first
      for i in "${!order[@]}"; do
        s=${order[$(( (i + k) % ${#order[@]} ))]}
        if (( $(date +%s) - begin > deadline )); then
          log "deadline of ${deadline}s reached: no more runs"
          break 3
        fi
        dir="$work/r$round-$r-$s"
        log "round $round, rate $r: $s"
        run_one "$s" "$r" "$round" "$dir"
        mkdir -p "$results/r$round-$r-$s"
        cp -r "$dir"/. "$results/r$round-$r-$s/"
        awk '$1 ~ /^(ra_received|leases_stored|server_cpu_s|load1_after)$/ { printf "  %s=%s", $1, $2 } END { print "" }' \
          "$dir/metrics.txt" >&2
      done
      k=$(( k + 1 ))
    done
  done
  echo "finished $(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$results/meta.txt"
  echo "load_at_end $(cut -d' ' -f1-3 /proc/loadavg)" >> "$results/meta.txt"

  "$(command -v /usr/bin/python3 || command -v python3)" "$here/report.py" "$results" \
    "$root/bench/results/dhcp-$stamp.json" "$root/bench/results/dhcp-$stamp.csv"
}

main
