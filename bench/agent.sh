#!/usr/bin/env bash
# The node agent idle: RSS and CPU over DURATION (default 10 minutes) and start time, side by side with
# prometheus-node-exporter (the peer daemon) over the same window (issue 6, must-show 5).
#
#   bench/agent.sh                 # build, publish, measure 600 s (~12 min)
#   DURATION=120 bench/agent.sh    # shorter window
#   NO_BUILD=1 bench/agent.sh      # use the last Release build of the boot server and the last published agent
#   bench/agent.sh --help
#
# Installs what is missing (prometheus-node-exporter, etcd-server, curl, time; the node-exporter system service is
# stopped and disabled: the only instance is the one this script starts). Builds src/BootServer in Release (bench/lib.sh)
# and publishes the agent Native AOT (dotnet publish src/NodeAgent -c Release -r linux-x64) into AGENT_DIR
# (/var/tmp/nekko-bench/nekko-agent). Then:
#  1. starts nekko-bootserver with its embedded etcd on loopback (temp data dir, free high ports) on core SERVER_CPU (0);
#     registers one machine whose cloud-init profile hands out {{ bootstrap_token | json }} and takes the token from
#     GET /boot/config/{serial}/user-data, as a machine does (tests/EndToEnd.Tests/Nodes/AgentOnNode.cs);
#  2. one-shots: nekko-agent --discovery and --once, 5 times each (wall time and max RSS from /usr/bin/time);
#  3. start time: exec of nekko-agent (its default interval, 30 s; caFile DATA_DIR/ca.pem, state in a temp dir) to its
#     first heartbeat stored (GET /api/v1/machines/{serial}/health, polled with the admin token) — once on first start
#     (enrolment included), then 3 restarts with the certificate in place; node_exporter: exec to the first 200 on /metrics;
#  4. the agent and node_exporter (default collectors, 127.0.0.1, free port, scraped by curl every 10 s) both pinned to
#     AGENT_CPU (1) for DURATION s: VmRSS/VmHWM every 10 s, CPU time (utime+stime+cutime+cstime of the tree) over the window.
# Results: stdout and bench/results/agent-<UTC time>.txt (+ agent-<UTC time>.samples.tsv, the RSS samples).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
duration=${DURATION:-600}
sample_every=10
server_cpu=${SERVER_CPU:-0}
agent_cpu=${AGENT_CPU:-1}
agent_dir=${AGENT_DIR:-/var/tmp/nekko-bench/nekko-agent}
exporter=/usr/bin/prometheus-node-exporter
serial=BENCHAGENT01
bootserver=${NEKKO_BENCH_BOOTSERVER:-}

case "${1:-}" in
  -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; echo "Environment: DURATION, SERVER_CPU, AGENT_CPU, AGENT_DIR, NO_BUILD=1."; exit 0 ;;
  "") ;;
  *) echo "agent.sh: no arguments (--help; settings are environment variables)" >&2; exit 2 ;;
esac

die() { echo "agent.sh: $*" >&2; exit 1; }
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
[[ "$duration" =~ ^[1-9][0-9]*$ ]] || die "DURATION must be a whole number of seconds"
readonly HZ=$(getconf CLK_TCK)

install_missing() {
  local missing=()
  [[ -x $exporter ]] || missing+=(prometheus-node-exporter)
  [[ -x /usr/bin/etcd ]] || missing+=(etcd-server)
  command -v curl >/dev/null || missing+=(curl)
  [[ -x /usr/bin/time ]] || missing+=(time)
  if (( ${#missing[@]} )); then
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  fi
  # the package's own service, if it runs, would be a second exporter on the machine
  if [[ -d /run/systemd/system ]]; then
    systemctl disable --now --quiet prometheus-node-exporter 2>/dev/null || true
  elif [[ -x /etc/init.d/prometheus-node-exporter ]] && /etc/init.d/prometheus-node-exporter status >/dev/null 2>&1; then
    log "stopping the prometheus-node-exporter system service"
    /etc/init.d/prometheus-node-exporter stop >/dev/null 2>&1 || true
  fi
}

publish_agent() {
  [[ "${NO_BUILD:-0}" == 1 && -x "$agent_dir/nekko-agent" ]] && return 0
  log "publishing src/NodeAgent (Native AOT, Release, linux-x64) to $agent_dir"
  mkdir -p "$agent_dir"
  dotnet publish "$root/src/NodeAgent" -c Release -r linux-x64 -o "$agent_dir" --nologo -v q > "$work/publish.log" 2>&1 ||
    { [[ -x "$agent_dir/nekko-agent" ]] && log "publishing failed (src/ may be half-edited): using the last published agent"; } ||
    { cat "$work/publish.log" >&2; die "publishing the agent failed"; }
}

now_ns() { date +%s%N; }
ms_since() { echo $(( ($(now_ns) - $1) / 1000000 )); }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' /proc/"$1"/status 2>/dev/null || echo 0; }   # PID FIELD (VmRSS, VmHWM)
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

server_pid="" agent_pid="" exporter_pid="" scraper_pid="" work=""
cleanup() {
  [[ -n "$scraper_pid" ]] && kill "$scraper_pid" 2>/dev/null
  stop_tree "$agent_pid"
  stop_tree "$exporter_pid"
  stop_tree "$server_pid"
  [[ -n "$work" ]] && rm -rf "$work"
  return 0
}

api() {   # METHOD PATH [BODY]: the admin API over HTTPS, trusting DATA_DIR/ca.pem
  curl -sS --fail-with-body --noproxy '*' --cacert "$work/data/ca.pem" -H "Authorization: Bearer $admin_token" \
    -H 'Content-Type: application/json' -X "$1" ${3:+--data "$3"} "$https_url$2"
}

last_heartbeat() { api GET "/api/v1/machines/$serial/health" 2>/dev/null | grep -o '"lastHeartbeatAt":"[^"]*"' || true; }

start_agent() {   # sets agent_pid
  taskset -c "$agent_cpu" "$agent_dir/nekko-agent" \
    "--agent:bootServers:0=$https_url" "--agent:caFile=$work/data/ca.pem" "--agent:tokenFile=$work/agent.token" \
    "--agent:serial=$serial" "--agent:stateDirectory=$work/agent-state" "--agent:checksDirectory=$work/checks.d" \
    >> "$out.agent.log" 2>&1 &
  agent_pid=$!
}

agent_start_ms() {   # sets start_ms: exec to a heartbeat newer than the one stored before (polled every 20 ms, 60 s at most)
  local before t0 i seen
  before=$(last_heartbeat)
  t0=$(now_ns)
  start_agent
  for i in $(seq 1 3000); do
    alive "$agent_pid" || { tail -30 "$out.agent.log" >&2; die "nekko-agent exited"; }
    seen=$(last_heartbeat)
    [[ -n "$seen" && "$seen" != "$before" ]] && { start_ms=$(ms_since "$t0"); return 0; }
    sleep 0.02
  done
  tail -30 "$out.agent.log" >&2
  die "no heartbeat from nekko-agent 60 s after its start"
}

main() {
  local stamp
  stamp=$(date -u +%Y%m%d-%H%M%S)
  mkdir -p "$root/bench/results"
  out="$root/bench/results/agent-$stamp"
  work=$(mktemp -d /tmp/nekko-agentbench.XXXXXX)
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  install_missing
  local built_from="(not built by this run)"
  [[ -n "$bootserver" ]] || build_bootserver "$root"
  [[ -f "$bootserver" ]] || die "no boot server at $bootserver"
  publish_agent

  local port etcd_port i
  port=$(free_port)
  etcd_port=$(free_port)
  https_url="https://127.0.0.1:$((port + 1))"
  mkdir -p "$work/data"
  log "starting nekko-bootserver on 127.0.0.1:$port (HTTPS $((port + 1)), etcd $etcd_port) on core $server_cpu"
  taskset -c "$server_cpu" dotnet "$bootserver" --data-dir "$work/data" \
    --http-url "http://127.0.0.1:$port" --https-url "$https_url" \
    --embedded-etcd-client-port "$etcd_port" --embedded-etcd-peer-port "$((etcd_port + 1))" --tftp-port 0 > "$out.server.log" 2>&1 &
  server_pid=$!
  for i in $(seq 1 600); do
    alive "$server_pid" || { tail -50 "$out.server.log" >&2; die "nekko-bootserver exited at start"; }
    curl -sf --noproxy '*' -o /dev/null "http://127.0.0.1:$port/health/ready" && break
    sleep 0.1
  done
  (( i < 600 )) || die "nekko-bootserver not ready after 60 s"
  admin_token=$(cat "$work/data/admin.token")

  # the machine and its bootstrap token, the way a machine gets it: its rendered cloud-init user-data
  api PUT /api/v1/profiles/bench-agent \
    '{"kernel":"vmlinuz","initrds":["initrd.img"],"cmdline":"console=ttyS0","config":{"kind":"cloud-init","userData":"#cloud-config\nnekko:\n  token: {{ bootstrap_token | json }}\n"}}' > /dev/null
  api POST /api/v1/machines "{\"serial\":\"$serial\",\"macs\":[\"52:54:00:be:0a:01\"],\"role\":\"bench-agent\"}" > /dev/null
  curl -sS --fail-with-body --noproxy '*' "http://127.0.0.1:$port/boot/config/$serial/user-data" |
    sed -n 's/.*token: "\([^"]*\)".*/\1/p' > "$work/agent.token"
  grep -q '^nekkoboot_' "$work/agent.token" || die "no bootstrap token in the machine's user-data"
  chmod 600 "$work/agent.token"

  {
    echo "started $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "command DURATION=$duration bench/agent.sh"
    echo "machine $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); shared with other sessions' builds and tests"
    echo "load_at_start $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "server_cpu $server_cpu"
    echo "agent_cpu $agent_cpu"
    echo "git_head $(git -C "$root" rev-parse --short HEAD 2>/dev/null)"
    echo "bootserver_built $(date -u -r "$bootserver" +%Y-%m-%dT%H:%M:%SZ) from $built_from"
    echo "agent_binary $agent_dir/nekko-agent $(stat -c %s "$agent_dir/nekko-agent") bytes, published $(date -u -r "$agent_dir/nekko-agent" +%Y-%m-%dT%H:%M:%SZ)"
    echo "peer $($exporter --version 2>&1 | head -1), $(stat -c %s "$exporter") bytes"
  } > "$out.txt"

  # one-shots: wall s and max RSS kB, medians of 5
  local mode
  for mode in discovery once; do
    for i in 1 2 3 4 5; do
      taskset -c "$agent_cpu" /usr/bin/time -f '%e %M' -o "$work/time.$mode.$i" "$agent_dir/nekko-agent" "--$mode" \
        "--agent:checksDirectory=$work/checks.d" > /dev/null 2>&1 || true   # --once exits with the overall status
    done
    # (time writes "Command exited with non-zero status N" before the figures: --once exits with the overall status)
    echo "oneshot_${mode}_wall_s $(grep -h '^[0-9.]* [0-9]*$' "$work"/time."$mode".* | awk '{ print $1 }' | median)" >> "$out.txt"
    echo "oneshot_${mode}_maxrss_kb $(grep -h '^[0-9.]* [0-9]*$' "$work"/time."$mode".* | awk '{ print $2 }' | median)" >> "$out.txt"
  done

  # start time: first start (enrols), then restarts with the certificate in its state directory
  log "agent start time: first start (enrolment + first round + heartbeat)"
  agent_start_ms
  echo "agent_first_start_to_heartbeat_ms $start_ms" >> "$out.txt"
  local restarts=()
  for i in 1 2 3; do
    stop_tree "$agent_pid"
    agent_start_ms
    restarts+=("$start_ms")
  done
  echo "agent_restart_to_heartbeat_ms ${restarts[*]}" >> "$out.txt"
  echo "agent_restart_to_heartbeat_ms_median $(printf '%s\n' "${restarts[@]}" | median)" >> "$out.txt"

  local eport t0
  eport=$(free_port)
  t0=$(now_ns)
  taskset -c "$agent_cpu" "$exporter" --web.listen-address="127.0.0.1:$eport" > "$out.exporter.log" 2>&1 &
  exporter_pid=$!
  for i in $(seq 1 3000); do
    curl -sf --noproxy '*' -o /dev/null "http://127.0.0.1:$eport/metrics" && break
    sleep 0.02
  done
  echo "peer_start_to_first_scrape_ms $(ms_since "$t0")" >> "$out.txt"
  curl -s --noproxy '*' "http://127.0.0.1:$eport/metrics" | wc -c | sed 's/^/peer_scrape_bytes /' >> "$out.txt"
  sleep 2   # both settle; the agent is between rounds

  # the window: the peer scraped every 10 s (its equivalent of the agent's facts + checks round), RSS every 10 s
  ( while :; do curl -s --noproxy '*' -o /dev/null "http://127.0.0.1:$eport/metrics"; sleep 10; done ) &
  scraper_pid=$!
  log "idle window: $duration s (nekko-agent pid $agent_pid, node_exporter pid $exporter_pid, both on core $agent_cpu)"
  local a0 p0 s0 w0 elapsed
  a0=$(tree_ticks "$agent_pid"); p0=$(tree_ticks "$exporter_pid"); s0=$(system_busy_ticks); w0=$(now_ns)
  printf 't_s\tagent_rss_kb\tagent_hwm_kb\tpeer_rss_kb\tpeer_hwm_kb\n' > "$out.samples.tsv"
  for (( elapsed = 0; elapsed <= duration; elapsed += sample_every )); do
    alive "$agent_pid" || die "nekko-agent died during the window"
    alive "$exporter_pid" || die "node_exporter died during the window"
    printf '%s\t%s\t%s\t%s\t%s\n' "$elapsed" "$(status_kb "$agent_pid" VmRSS)" "$(status_kb "$agent_pid" VmHWM)" \
      "$(status_kb "$exporter_pid" VmRSS)" "$(status_kb "$exporter_pid" VmHWM)" >> "$out.samples.tsv"
    (( elapsed < duration )) && sleep "$sample_every"
  done
  local a1 p1 s1 wall
  a1=$(tree_ticks "$agent_pid"); p1=$(tree_ticks "$exporter_pid"); s1=$(system_busy_ticks)
  wall=$(( ($(now_ns) - w0) / 1000000 ))
  kill "$scraper_pid" 2>/dev/null; scraper_pid=""
  local heartbeats
  heartbeats=$(grep -c 'Heartbeat not sent\|did not take the heartbeat' "$out.agent.log" || true)

  awk -v a="$((a1 - a0))" -v p="$((p1 - p0))" -v s="$((s1 - s0))" -v hz="$HZ" -v wall="$wall" -v tsv="$out.samples.tsv" -v d="$duration" -v failed="$heartbeats" '
    BEGIN {
      while ((getline line < tsv) > 0) {
        split(line, f, "\t"); if (f[1] == "t_s") continue
        n++; ar += f[2]; pr += f[4]; if (f[2] > amax) amax = f[2]; if (f[4] > pmax) pmax = f[4]
        if (n == 1) { afirst = f[2]; pfirst = f[4] } alast = f[2]; ahwm = f[3]; plast = f[4]; phwm = f[5]
      }
      printf "window_s %.1f\nrss_samples %d\n", wall / 1000, n
      printf "agent_rss_kb_first %d\nagent_rss_kb_last %d\nagent_rss_kb_mean %.0f\nagent_rss_kb_max %d\nagent_hwm_kb %d\n", afirst, alast, ar / n, amax, ahwm
      printf "peer_rss_kb_first %d\npeer_rss_kb_last %d\npeer_rss_kb_mean %.0f\npeer_rss_kb_max %d\npeer_hwm_kb %d\n", pfirst, plast, pr / n, pmax, phwm
      printf "agent_cpu_s %.2f\npeer_cpu_s %.2f\n", a / hz, p / hz
      printf "agent_cpu_ms_per_minute %.1f\npeer_cpu_ms_per_minute %.1f\n", a / hz * 1000 / (wall / 60000), p / hz * 1000 / (wall / 60000)
      printf "agent_rounds_in_window %d\npeer_scrapes_in_window %d\n", d / 30, d / 10 + 1
      printf "agent_heartbeat_problems_logged %d\n", failed
      printf "machine_busy_cores_others %.2f\n", (s - a - p) / hz / (wall / 1000)
      printf "ratio_rss_mean_ours_over_peer %.2f\nratio_hwm_ours_over_peer %.2f\nratio_cpu_ours_over_peer %.2f\n", ar / pr, ahwm / phwm, (p > 0 ? a / p : 0)
    }' >> "$out.txt"
  {
    echo "load_at_end $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "finished $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >> "$out.txt"
  cat "$out.txt"
  log "results: $out.txt"
}

main "$@"
