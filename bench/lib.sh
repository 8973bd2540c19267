# Shared by the benchmark scripts (sourced after they define log and die; NS_SRV / NS_CLI name their namespaces).

descendants() {   # PID and all its descendants, parents first
  local p c
  for p in "$@"; do
    [[ -d /proc/$p ]] || continue
    echo "$p"
    for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do descendants "$c"; done
  done
}

tree_ticks() {    # utime+stime+cutime+cstime (clock ticks) of PID and every descendant, all threads included
  local p
  for p in $(descendants "$1"); do
    awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' /proc/"$p"/stat 2>/dev/null || true
  done | awk '{ s += $1 } END { print s + 0 }'
}

# user + nice + system of all cores (interrupt and softirq time, where veth traffic is handled, left out)
system_busy_ticks() { awk '/^cpu / { print $2 + $3 + $4; exit }' /proc/stat; }

alive() {         # PID exists and is not a zombie (our own children stay zombies until waited for)
  [[ -r /proc/$1/stat ]] && awk '{ sub(/^.*\) /, ""); exit ($1 == "Z") }' /proc/"$1"/stat 2>/dev/null
}

stop_tree() {     # SIGTERM PID, then SIGKILL whatever of its tree is left after 15 s
  local pid=$1 tree i p
  [[ -n "$pid" ]] && alive "$pid" || return 0
  tree=$(descendants "$pid")
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 150); do
    alive "$pid" || break
    sleep 0.1
  done
  for p in $tree; do
    if alive "$p"; then
      log "process $p did not stop after SIGTERM: killing it"
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
  wait "$pid" 2>/dev/null || true
}

kill_namespace_leftovers() {   # anything still in our own namespaces was started by us
  local ns p
  for ns in "$NS_SRV" "$NS_CLI"; do
    ip netns list 2>/dev/null | grep -qw "$ns" || continue
    for p in $(ip netns pids "$ns" 2>/dev/null); do
      log "killing leftover process $p ($(cat /proc/"$p"/comm 2>/dev/null)) in $ns"
      kill -KILL "$p" 2>/dev/null || true
    done
  done
}

delete_namespaces() {
  local ns
  for ns in "$NS_SRV" "$NS_CLI"; do
    ip netns list 2>/dev/null | grep -qw "$ns" && ip netns del "$ns"
  done
  return 0
}

# The boot server to measure: the Release build of src/BootServer, built first unless NO_BUILD=1 (a failed build
# falls back to the last Release build). Sets bootserver (the dll) and built_from (commit, +modified-src when src/ has
# uncommitted changes; left empty when nothing was built here).
build_bootserver() {   # ROOT
  local root=$1 head
  bootserver="$root/src/BootServer/bin/Release/net10.0/nekko-bootserver.dll"
  [[ "${NO_BUILD:-0}" == 1 ]] && return 0
  log "building src/BootServer (Release)"
  # Release outputs live in their own bin/Release and obj/Release folders; the Debug ones are left alone
  head="$(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet HEAD -- src 2>/dev/null || echo '+modified-src')"
  if dotnet build "$root/src/BootServer/BootServer.csproj" -c Release -nologo -v quiet > /dev/null; then
    built_from=$head
  else
    [[ -f "$bootserver" ]] || die "building the boot server failed and there is no earlier Release build"
    log "building the boot server failed (src/ may be half-edited): using the last Release build"
  fi
}

free_port() {   # a TCP port nobody listens on, with PORT+1 free too
  local p used
  used=$(ss -Htan | awk '{ n = split($4, a, ":"); print a[n] }' | sort -u)
  while :; do
    p=$(( 20000 + RANDOM % 30000 ))
    grep -qx "$p" <<< "$used" || grep -qx "$((p + 1))" <<< "$used" || { echo "$p"; return; }
  done
}
