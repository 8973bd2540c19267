#!/usr/bin/env bash
# Asset delivery: nekko-bootserver against nginx (HTTP) and tftpd-hpa / atftpd (TFTP), interleaved in one run
# (issue 4, Must show 4).
#
#   bench/assets.sh                          # HTTP at 1, 10, 100 clients + TFTP in 3 modes (~3 min)
#   bench/assets.sh --parts http --concurrency "1 10"
#   bench/assets.sh --tftp-repeat 5          # five transfers per server and TFTP mode (medians)
#   NO_BUILD=1 bench/assets.sh               # use the last Release build of the boot server
#   bench/assets.sh --help
#
# Needs root (network namespaces). Installs what is missing: nginx-light (HTTP peer), tftpd-hpa (TFTP peer), wrk
# (HTTP load), atftp (TFTP client with blksize/windowsize), curl, etcd-server (our embedded etcd). atftpd, the
# second TFTP peer, conflicts with tftpd-hpa as a package: its .deb is downloaded with `apt-get download` and
# unpacked into /var/cache/nekko-bench/atftpd (never installed). The nginx and tftpd-hpa system services are
# stopped and disabled; every server this script measures is its own instance, with its own config in a temp dir.
#
# Topology (as bench/dhcp.sh): two namespaces joined by a veth, server 10.214.0.1/16, client 10.214.0.2/16. Servers
# are pinned to one core (SERVER_CPU, default 0), clients to the other (CLIENT_CPU, default 1).
#
# Results: tables on stdout, bench/results/assets-<UTC time>.json, and each run's client output and server logs
# under bench/results/assets-<UTC time>/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
here="$root/bench/assets"

parts="http tftp"
concurrency="1 10 100"
duration=10          # seconds of each measured wrk run
http_warmup=2        # seconds of unmeasured wrk before each measured run
tftp_repeat=3
repeat=1             # HTTP rounds over all client counts
tftp_modes="512 1468 1468w64"
bootserver=${NEKKO_BENCH_BOOTSERVER:-}
deadline=${ASSETS_BENCH_DEADLINE:-600}
server_cpu=${SERVER_CPU:-0}
client_cpu=${CLIENT_CPU:-1}

usage() {
  sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<EOF

Options:
  --parts "P ..."        http and/or tftp (default: "$parts")
  --concurrency "N ..."  concurrent HTTP clients (wrk connections) per run (default: "$concurrency")
  --duration SECONDS     length of each measured HTTP run (default: $duration); a ${http_warmup} s unmeasured
                         run of the same shape precedes it (JIT, page cache)
  --repeat N             HTTP rounds over all client counts, interleaved; the report takes medians (default: $repeat)
  --tftp-repeat N        transfers per server and TFTP mode, interleaved; the report takes medians (default: $tftp_repeat)
  --tftp-modes "M ..."   512 (no options), 1468 (blksize 1468), 1468w64 (blksize 1468 + windowsize 64)
                         (default: "$tftp_modes")
  --bootserver DLL       nekko-bootserver.dll to run (default: src/BootServer/bin/Release/net10.0/, built first
                         unless NO_BUILD=1; also NEKKO_BENCH_BOOTSERVER)
  --deadline SECONDS     start no run after this many seconds (default: $deadline)
Environment: SERVER_CPU, CLIENT_CPU (cores for taskset), NO_BUILD=1.
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --parts) parts=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --tftp-repeat) tftp_repeat=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --tftp-modes) tftp_modes=$2; shift 2 ;;
    --bootserver) bootserver=$2; shift 2 ;;
    --deadline) deadline=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "assets.sh: unknown argument '$1' (--help lists them)" >&2; exit 2 ;;
  esac
done

die() { echo "assets.sh: $*" >&2; exit 1; }
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

[[ $(id -u) == 0 ]] || die "needs root: network namespaces"
for p in $parts; do [[ "$p" == http || "$p" == tftp ]] || die "unknown part '$p'"; done
for c in $concurrency; do [[ "$c" =~ ^[1-9][0-9]*$ ]] || die "bad concurrency '$c'"; done
for m in $tftp_modes; do [[ "$m" == 512 || "$m" == 1468 || "$m" == 1468w64 ]] || die "bad TFTP mode '$m'"; done
[[ "$duration" =~ ^[1-9][0-9]*$ && "$repeat" =~ ^[1-9][0-9]*$ && "$tftp_repeat" =~ ^[1-9][0-9]*$ && "$deadline" =~ ^[0-9]+$ ]] ||
  die "--duration, --tftp-repeat and --deadline take whole numbers"
(( $(nproc) >= 2 )) || log "warning: fewer than 2 cores: servers and clients will share one"

readonly NS_SRV=nekko-assetbench-srv NS_CLI=nekko-assetbench-cli IFACE=assetbench0
readonly SRV_ADDR=10.214.0.1 CLI_ADDR=10.214.0.2 PREFIX_LEN=16
readonly HTTP_MIB=64 TFTP_MIB=16 ASSET=bench-64m.bin TFTP_FILE=bench-16m.bin PROBE_FILE=probe.bin
readonly OURS_HTTP_PORT=8080 NGINX_PORT=8081 OURS_TFTP_HTTP_PORT=8090
readonly OURS_TFTP_PORT=6969 HPA_TFTP_PORT=6970 ATFTPD_PORT=6971
readonly HZ=$(getconf CLK_TCK)
readonly ATFTPD_DIR=/var/cache/nekko-bench/atftpd
atftpd_bin="$ATFTPD_DIR/usr/sbin/atftpd"

# ---------------------------------------------------------------------------------------------------------------
# Packages
peer_services=(nginx tftpd-hpa)

quiet_peer_services() {
  local svc
  for svc in "${peer_services[@]}"; do
    [[ -e /lib/systemd/system/$svc.service || -x /etc/init.d/$svc ]] || continue
    if [[ -d /run/systemd/system ]]; then
      if systemctl is-enabled --quiet "$svc" 2>/dev/null; then
        log "disabling the $svc system service (the bench starts its own instances)"
        systemctl disable --quiet "$svc" 2>/dev/null || true
      fi
      if systemctl is-active --quiet "$svc" 2>/dev/null; then
        log "stopping the $svc system service"
        systemctl stop "$svc"
      fi
    elif [[ -x /etc/init.d/$svc ]]; then
      if ls /etc/rc[2-5].d/S*"$svc" >/dev/null 2>&1; then
        log "disabling the $svc system service (the bench starts its own instances)"
        update-rc.d "$svc" disable >/dev/null 2>&1 || true
      fi
      if /etc/init.d/"$svc" status >/dev/null 2>&1; then
        log "stopping the $svc system service"
        /etc/init.d/"$svc" stop >/dev/null 2>&1 || true
      fi
    fi
  done
}

install_missing() {
  local need=()
  command -v nginx >/dev/null || need+=(nginx-light)
  [[ -x /usr/sbin/in.tftpd ]] || need+=(tftpd-hpa)
  command -v wrk >/dev/null || need+=(wrk)
  command -v atftp >/dev/null || need+=(atftp)
  command -v curl >/dev/null || need+=(curl)
  [[ -x /usr/bin/etcd ]] || need+=(etcd-server)
  command -v taskset >/dev/null || need+=(util-linux)
  command -v python3 >/dev/null || need+=(python3)
  export DEBIAN_FRONTEND=noninteractive
  if (( ${#need[@]} > 0 )); then
    log "installing ${need[*]}"
    if ! apt-get install -y --no-install-recommends "${need[@]}" >/dev/null; then
      apt-get update >/dev/null
      apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
    fi
  fi
  quiet_peer_services
  if [[ ! -x "$atftpd_bin" ]]; then
    log "unpacking atftpd into $ATFTPD_DIR (not installed: it conflicts with tftpd-hpa)"
    local dl
    dl=$(mktemp -d /tmp/nekko-atftpd-deb.XXXXXX)
    chmod 777 "$dl"
    ( cd "$dl" && { apt-get download atftpd >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get download atftpd >/dev/null; }; } )
    mkdir -p "$ATFTPD_DIR"
    dpkg-deb -x "$dl"/atftpd_*.deb "$ATFTPD_DIR"
    rm -rf "$dl"
    [[ -x "$atftpd_bin" ]] || die "atftpd not found in the unpacked package"
  fi
}

# ---------------------------------------------------------------------------------------------------------------
# Process bookkeeping (as bench/dhcp.sh): every process this script starts is remembered by id and ended by id.
server_pids=()



# Server CPU: each server goes into its own cgroup v1 cpuacct group (with every descendant; processes it forks
# later follow), so children that exit between samples still count (tftpd-hpa forks one per transfer and lets the
# kernel reap it, which drops its times from the parent's cutime). Without cpuacct: the process tree from /proc.
readonly CG_ROOT=/sys/fs/cgroup/cpuacct/nekko-assetbench
cg_ok=0
cg_add() {        # NAME PID
  (( cg_ok )) || return 0
  mkdir -p "$CG_ROOT/$1"
  local p
  for p in $(descendants "$2"); do echo "$p" > "$CG_ROOT/$1/cgroup.procs" 2>/dev/null || true; done
}
server_cpu_s() {  # NAME PID -> CPU seconds so far
  if (( cg_ok )) && [[ -r "$CG_ROOT/$1/cpuacct.usage" ]]; then
    awk '{ printf "%.4f", $1 / 1e9 }' "$CG_ROOT/$1/cpuacct.usage"
  else
    awk -v t="$(tree_ticks "$2")" -v hz="$HZ" 'BEGIN { printf "%.4f", t / hz }'
  fi
}
cg_remove() {
  local d
  [[ -d "$CG_ROOT" ]] || return 0
  for d in "$CG_ROOT"/*/; do [[ -d "$d" ]] && rmdir "$d" 2>/dev/null; done
  rmdir "$CG_ROOT" 2>/dev/null || true
}

load1() { cut -d' ' -f1 /proc/loadavg; }



stop_servers() {
  local p
  for p in "${server_pids[@]}"; do stop_tree "$p"; done
  server_pids=()
}



work=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_servers
  kill_namespace_leftovers
  sleep 0.2
  delete_namespaces
  cg_remove
  [[ -n "$work" && -d "$work" ]] && rm -rf "$work"
  exit "$rc"
}

setup_namespaces() {
  delete_namespaces
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
  for _ in $(seq 1 50); do
    ip -n "$NS_CLI" link show "$IFACE" | grep -q 'state UP' && return 0
    sleep 0.1
  done
  die "the veth between $NS_SRV and $NS_CLI did not come up"
}

in_srv() { ip netns exec "$NS_SRV" "$@"; }
in_cli() { ip netns exec "$NS_CLI" "$@"; }

# ---------------------------------------------------------------------------------------------------------------
# Servers. Each start_* prints nothing, appends the server's pid to server_pids and sets last_pid.
last_pid=""

start_ours() {   # DIR HTTP_PORT [extra args]: embedded etcd (the boot server's child) under DIR/data
  local dir=$1 port=$2 i
  shift 2
  mkdir -p "$dir/data"
  ip netns exec "$NS_SRV" taskset -c "$server_cpu" dotnet "$bootserver" \
    --data-dir "$dir/data" --http-url "http://$SRV_ADDR:$port" --https-url "https://$SRV_ADDR:$((port + 1000))" "$@" > "$dir/server.log" 2>&1 &
  last_pid=$!
  server_pids+=("$last_pid")
  for i in $(seq 1 600); do
    alive "$last_pid" || { cat "$dir/server.log" >&2; die "nekko-bootserver exited at start"; }
    in_srv curl -sf --noproxy '*' -o /dev/null "http://$SRV_ADDR:$port/health/ready" && break
    sleep 0.1
  done
  (( i < 600 )) || { cat "$dir/server.log" >&2; die "nekko-bootserver not ready after 60 s"; }
}

start_nginx() {   # DIR FILE
  local dir=$1 file=$2 i
  mkdir -p "$dir/www/boot/assets" "$dir/tmp"
  cp "$file" "$dir/www/boot/assets/$ASSET"
  sed -e "s|@DIR@|$dir|g" -e "s|@ADDR@|$SRV_ADDR|g" -e "s|@PORT@|$NGINX_PORT|g" "$here/nginx.conf.in" > "$dir/nginx.conf"
  in_srv nginx -t -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" > "$dir/nginx-check.log" 2>&1 ||
    { cat "$dir/nginx-check.log" >&2; die "nginx rejects bench/assets/nginx.conf.in"; }
  ip netns exec "$NS_SRV" taskset -c "$server_cpu" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
    > "$dir/server.log" 2>&1 &
  last_pid=$!
  server_pids+=("$last_pid")
  for i in $(seq 1 100); do
    alive "$last_pid" || { cat "$dir/server.log" "$dir/error.log" >&2; die "nginx exited at start"; }
    in_srv curl -sf --noproxy '*' -o /dev/null -r 0-0 "http://$SRV_ADDR:$NGINX_PORT/boot/assets/$ASSET" && return 0
    sleep 0.1
  done
  die "nginx does not serve after 10 s"
}

start_hpa() {     # DIR ROOT
  local dir=$1 troot=$2
  # -L foreground, -s chroot into ROOT (as the package runs it), runs as user tftp after binding
  ip netns exec "$NS_SRV" taskset -c "$server_cpu" /usr/sbin/in.tftpd -L -v -s -u tftp \
    -a "$SRV_ADDR:$HPA_TFTP_PORT" "$troot" > "$dir/server.log" 2>&1 &
  last_pid=$!
  server_pids+=("$last_pid")
  wait_udp "$last_pid" "$HPA_TFTP_PORT" tftpd-hpa || { cat "$dir/server.log" >&2; die "tftpd-hpa did not start"; }
}

start_atftpd() {  # DIR ROOT
  local dir=$1 troot=$2
  ip netns exec "$NS_SRV" taskset -c "$server_cpu" "$atftpd_bin" --daemon --no-fork --port "$ATFTPD_PORT" \
    --bind-address "$SRV_ADDR" --logfile "$dir/atftpd.log" --user nobody --group nogroup "$troot" \
    > "$dir/server.log" 2>&1 &
  last_pid=$!
  server_pids+=("$last_pid")
  wait_udp "$last_pid" "$ATFTPD_PORT" atftpd || { cat "$dir/server.log" "$dir/atftpd.log" >&2; die "atftpd did not start"; }
}

wait_udp() {
  local pid=$1 port=$2 name=$3 i
  for i in $(seq 1 300); do
    alive "$pid" || return 1
    in_srv ss -Hlun "sport = :$port" | grep -q . && return 0
    sleep 0.1
  done
  log "$name does not listen on UDP $port after 30 s"
  return 1
}

versions() {
  echo "nginx $(nginx -v 2>&1 | sed 's|.*/||')"
  echo "tftpd_hpa $(/usr/sbin/in.tftpd -V 2>&1 | head -1 | awk '{ print $2 }' | tr -d ,)"
  echo "atftpd $("$atftpd_bin" -V 2>&1 | head -1 | awk '{ print $1 }')"
  echo "atftp $(atftp -V 2>&1 | head -1 | awk '{ print $1 }')"
  echo "wrk $(wrk -v 2>&1 | head -1 | awk '{ print $2 }')"
  echo "etcd $(/usr/bin/etcd --version 2>/dev/null | awk '/etcd Version/ { print $3 }')"
  echo "dotnet $(dotnet --version 2>/dev/null)"
}

# ---------------------------------------------------------------------------------------------------------------
# HTTP: wrk, one thread (one client core), N connections, keep-alive, for $duration s. CPU of the server's process
# tree from /proc around the measured run.
declare -A http_pid http_url

http_run() {   # SERVER CONC OUTDIR ROUND
  local s=$1 c=$2 out=$3 round=$4 pid=${http_pid[$1]} url=${http_url[$1]}
  in_cli taskset -c "$client_cpu" wrk -t1 -c "$c" -d "${http_warmup}s" --timeout 60s "$url" > /dev/null 2>&1 || true
  local k0 k1 b0 b1 l0 l1 t0 t1 rc=0
  l0=$(load1); k0=$(server_cpu_s "http-$s" "$pid"); b0=$(system_busy_ticks); t0=$(date +%s.%N)
  in_cli taskset -c "$client_cpu" wrk -t1 -c "$c" -d "${duration}s" --timeout 60s "$url" > "$out/wrk-$s-c$c-r$round.out" 2>&1 || rc=$?
  t1=$(date +%s.%N); k1=$(server_cpu_s "http-$s" "$pid"); b1=$(system_busy_ticks); l1=$(load1)
  (( rc == 0 )) || log "wrk exited with status $rc (see $out/wrk-$s-c$c-r$round.out)"
  alive "$pid" || log "$s exited during the run"
  awk -v s="$s" -v c="$c" -v t0="$t0" -v t1="$t1" -v k0="$k0" -v k1="$k1" -v b0="$b0" -v b1="$b1" -v hz=1 -v bhz="$HZ" \
      -v l0="$l0" -v l1="$l1" -v round="$round" -f "$here/wrk.awk" "$out/wrk-$s-c$c-r$round.out" >> "$out/runs.jsonl"
  tail -1 "$out/runs.jsonl" >&2
}

http_part() {
  local out=$1 begin=$2
  local dir="$work/http" token code
  mkdir -p "$dir/ours" "$dir/nginx"
  chmod 755 "$dir" "$dir/nginx"
  head -c $(( HTTP_MIB * 1024 * 1024 )) /dev/urandom > "$dir/$ASSET"
  chmod 644 "$dir/$ASSET"

  log "HTTP: starting nekko-bootserver and uploading the ${HTTP_MIB} MiB asset"
  start_ours "$dir/ours" "$OURS_HTTP_PORT" --tftp-port 0
  http_pid[ours]=$last_pid
  cg_add http-ours "$last_pid"
  token=$(cat "$dir/ours/data/admin.token")
  # the API is HTTPS only (port + 1000 here), its certificate from the CA the server wrote to DATA_DIR/ca.pem
  code=$(in_srv curl -sS --noproxy '*' --cacert "$dir/ours/data/ca.pem" -o "$dir/ours/upload.json" -w '%{http_code}' -X PUT \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/octet-stream' \
    -T "$dir/$ASSET" "https://$SRV_ADDR:$((OURS_HTTP_PORT + 1000))/api/v1/assets/$ASSET")
  [[ "$code" == 200 || "$code" == 201 ]] || { cat "$dir/ours/upload.json" >&2; die "PUT /api/v1/assets answered $code"; }
  http_url[ours]="http://$SRV_ADDR:$OURS_HTTP_PORT/boot/assets/$ASSET"

  log "HTTP: starting nginx"
  start_nginx "$dir/nginx" "$dir/$ASSET"
  http_pid[nginx]=$last_pid
  cg_add http-nginx "$last_pid"
  http_url[nginx]="http://$SRV_ADDR:$NGINX_PORT/boot/assets/$ASSET"

  # both serve the same bytes
  local want got s
  want=$(sha256sum < "$dir/$ASSET" | cut -d' ' -f1)
  for s in ours nginx; do
    got=$(in_cli curl -sf --noproxy '*' "${http_url[$s]}" | sha256sum | cut -d' ' -f1)
    [[ "$got" == "$want" ]] || die "$s serves different content ($got, expected $want)"
  done
  echo "{\"part\":\"meta\",\"asset_bytes\":$(( HTTP_MIB * 1048576 )),\"sha256\":\"$want\"}" >> "$out/runs.jsonl"

  local order=(ours nginx) k=0 i r
  for r in $(seq 1 "$repeat"); do
    for c in $concurrency; do
      for i in 0 1; do
        s=${order[$(( (i + k) % 2 ))]}
        if (( $(date +%s) - begin > deadline )); then log "deadline reached: no more runs"; break 3; fi
        log "HTTP round $r, $c clients: $s"
        http_run "$s" "$c" "$out" "$r"
      done
      k=$(( k + 1 ))
    done
  done
  cp "$dir/ours/server.log" "$out/http-ours-server.log" 2>/dev/null || true
  cp "$dir/nginx/error.log" "$out/http-nginx-error.log" 2>/dev/null || true
  stop_servers
  rm -rf "$dir"
}

# ---------------------------------------------------------------------------------------------------------------
# TFTP: the atftp client (the only one here with windowsize), one transfer at a time.
declare -A tftp_pid tftp_port

mode_options() {   # MODE -> atftp --option arguments
  case "$1" in
    512) ;;
    1468) echo "--option|blksize 1468" ;;
    1468w64) echo "--option|blksize 1468|--option|windowsize 64" ;;
  esac
}

atftp_get() {      # SERVER MODE REMOTE LOCAL [extra atftp args...]
  local s=$1 m=$2 remote=$3 local_file=$4 args=()
  shift 4
  local opts
  opts=$(mode_options "$m")
  [[ -n "$opts" ]] && IFS='|' read -r -a args <<< "$opts"
  in_cli taskset -c "$client_cpu" atftp "$@" "${args[@]}" -g -r "$remote" -l "$local_file" "$SRV_ADDR" "${tftp_port[$s]}"
}

tftp_probe() {     # SERVER MODE OUTDIR -> JSON fields: what the server's OACK granted
  local s=$1 m=$2 out=$3 f="$out/probe-$1-$2.out" blk win
  atftp_get "$s" "$m" "$PROBE_FILE" "$work/cli/probe" --trace > "$f" 2>&1 || true
  blk=$(grep -m1 -o 'OACK.*' "$f" | grep -o 'blksize[ =:]*[0-9]*' | grep -o '[0-9]*$' || true)
  win=$(grep -m1 -o 'OACK.*' "$f" | grep -o 'windowsize[ =:]*[0-9]*' | grep -o '[0-9]*$' || true)
  echo "\"granted_blksize\":${blk:-512},\"granted_windowsize\":${win:-1}"
}

tftp_part() {
  local out=$1 begin=$2
  local dir="$work/tftp" troot="$work/tftp/root"
  mkdir -p "$dir/ours" "$dir/hpa" "$dir/atftpd" "$troot" "$work/cli"
  chmod 755 "$work" "$dir" "$troot"
  head -c $(( TFTP_MIB * 1024 * 1024 )) /dev/urandom > "$troot/$TFTP_FILE"
  head -c 100000 /dev/urandom > "$troot/$PROBE_FILE"
  chmod 644 "$troot/$TFTP_FILE" "$troot/$PROBE_FILE"
  local want
  want=$(sha256sum < "$troot/$TFTP_FILE" | cut -d' ' -f1)

  log "TFTP: starting nekko-bootserver, tftpd-hpa and atftpd (UDP $OURS_TFTP_PORT, $HPA_TFTP_PORT, $ATFTPD_PORT)"
  start_ours "$dir/ours" "$OURS_TFTP_HTTP_PORT" --tftp-port "$OURS_TFTP_PORT" --tftp-address "$SRV_ADDR" --tftp-root "$troot"
  tftp_pid[ours]=$last_pid; tftp_port[ours]=$OURS_TFTP_PORT
  cg_add tftp-ours "$last_pid"
  wait_udp "$last_pid" "$OURS_TFTP_PORT" nekko-bootserver || die "nekko-bootserver does not serve TFTP"
  start_hpa "$dir/hpa" "$troot"
  tftp_pid[tftpd-hpa]=$last_pid; tftp_port[tftpd-hpa]=$HPA_TFTP_PORT
  cg_add tftp-tftpd-hpa "$last_pid"
  start_atftpd "$dir/atftpd" "$troot"
  tftp_pid[atftpd]=$last_pid; tftp_port[atftpd]=$ATFTPD_PORT
  cg_add tftp-atftpd "$last_pid"

  local servers=(ours tftpd-hpa atftpd) m s i r k=0 granted
  declare -A grant
  for m in $tftp_modes; do
    for s in "${servers[@]}"; do
      grant[$s-$m]=$(tftp_probe "$s" "$m" "$out")
      # one transfer checked byte for byte (it also warms our JIT and the page cache)
      rm -f "$work/cli/got"
      atftp_get "$s" "$m" "$TFTP_FILE" "$work/cli/got" > "$out/check-$s-$m.out" 2>&1 || true
      [[ "$(sha256sum < "$work/cli/got" 2>/dev/null | cut -d' ' -f1)" == "$want" ]] ||
        log "TFTP: $s in mode $m did not deliver the file intact (see $out/check-$s-$m.out)"
    done
  done
  for r in $(seq 1 "$tftp_repeat"); do
    for m in $tftp_modes; do
      for i in 0 1 2; do
        s=${servers[$(( (i + k) % 3 ))]}
        if (( $(date +%s) - begin > deadline )); then log "deadline reached: no more runs"; break 3; fi
        local pid=${tftp_pid[$s]} k0 k1 t0 t1 b0 b1 l0 rc=0 size
        rm -f "$work/cli/got"
        l0=$(load1); k0=$(server_cpu_s "tftp-$s" "$pid"); b0=$(system_busy_ticks); t0=$(date +%s.%N)
        atftp_get "$s" "$m" "$TFTP_FILE" "$work/cli/got" > "$out/tftp-$s-$m-r$r.out" 2>&1 || rc=$?
        t1=$(date +%s.%N); k1=$(server_cpu_s "tftp-$s" "$pid"); b1=$(system_busy_ticks)
        size=$(stat -c %s "$work/cli/got" 2>/dev/null || echo 0)
        printf '{"part":"tftp","server":"%s","mode":"%s","round":%d,"seconds":%.4f,"server_cpu_s":%.3f,"system_busy_s":%.3f,"bytes":%d,"ok":%s,"load1":%s,%s}\n' \
          "$s" "$m" "$r" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$k1 - $k0" | bc -l)" \
          "$(echo "($b1 - $b0) / $HZ" | bc -l)" "$size" \
          "$([[ $rc == 0 && $size == $(( TFTP_MIB * 1048576 )) ]] && echo true || echo false)" "$l0" "${grant[$s-$m]}" \
          >> "$out/runs.jsonl"
        tail -1 "$out/runs.jsonl" >&2
      done
      k=$(( k + 1 ))
    done
  done
  cp "$dir/ours/server.log" "$out/tftp-ours-server.log" 2>/dev/null || true
  cp "$dir/atftpd/atftpd.log" "$out/tftp-atftpd.log" 2>/dev/null || true
  stop_servers
  rm -rf "$dir"
}

# ---------------------------------------------------------------------------------------------------------------
main() {
  local lock=/run/lock/nekko-assets-bench.lock
  [[ -d /run/lock ]] || lock=/tmp/nekko-assets-bench.lock
  exec 9> "$lock"
  flock -n 9 || die "another bench/assets.sh is running"

  install_missing
  command -v bc >/dev/null || die "needs bc"

  local built_from="(not built by this run)"
  [[ -n "$bootserver" ]] || build_bootserver "$root"
  [[ -f "$bootserver" ]] || die "no boot server at $bootserver"

  local stamp out
  stamp=$(date -u +%Y%m%d-%H%M%S)
  mkdir -p "$root/bench/results"
  out="$root/bench/results/assets-$stamp"
  mkdir -p "$out"
  work=$(mktemp -d /tmp/nekko-assetbench.XXXXXX)
  chmod 755 "$work"
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  if [[ -d /sys/fs/cgroup/cpuacct ]] && mkdir -p "$CG_ROOT" 2>/dev/null; then cg_ok=1; fi
  setup_namespaces
  {
    echo "started $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "command bench/assets.sh $*"
    echo "load_at_start $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "cores $(nproc)"
    echo "cpu_model $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "server_cpu $server_cpu"
    echo "client_cpu $client_cpu"
    echo "git_head $(git -C "$root" rev-parse --short HEAD 2>/dev/null)"
    echo "bootserver $bootserver"
    echo "bootserver_built $(date -u -r "$bootserver" +%Y-%m-%dT%H:%M:%SZ)"
    echo "bootserver_built_from $built_from"
    echo "http_duration_s $duration"
    echo "http_repeat $repeat"
    echo "tftp_repeat $tftp_repeat"
    echo "server_cpu_source $( (( cg_ok )) && echo cgroup-v1-cpuacct || echo proc-process-tree)"
    versions
  } > "$out/meta.txt"
  log "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  : > "$out/runs.jsonl"

  local begin
  begin=$(date +%s)
  [[ " $parts " == *" http "* ]] && http_part "$out" "$begin"
  [[ " $parts " == *" tftp "* ]] && tftp_part "$out" "$begin"
  echo "finished $(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$out/meta.txt"
  echo "load_at_end $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/meta.txt"

  "$(command -v /usr/bin/python3 || command -v python3)" "$here/report.py" "$out" "$root/bench/results/assets-$stamp.json"
}

main "$@"
