#!/usr/bin/env bash
# Copies the files nekko-agent reads into OUT, mirroring their paths (OUT/proc/cpuinfo, OUT/sys/class/net/eth0/…),
# plus the outputs of the commands it runs under OUT/commands/. Run as root on a machine to add it as a fixture:
#   sudo tests/NodeAgent.Tests/Fixtures/capture.sh tests/NodeAgent.Tests/Fixtures/<machine>
# Review before committing: DMI serials/UUIDs and MACs are real identifiers (replace them if they must stay private).
# sysfs attributes that refuse a read (a down link's speed: EINVAL) are left out, as the agent sees them: unreadable.
set -u
OUT="${1:?usage: capture.sh OUT}"
mkdir -p "$OUT"
copy() {
  for f in "$@"; do
    [ -f "$f" ] && [ -r "$f" ] || continue
    mkdir -p "$OUT$(dirname "$f")"
    if ! cat "$f" > "$OUT$f" 2>/dev/null; then rm -f "$OUT$f"; fi
  done
}
link() { [ -L "$1" ] || return 0; mkdir -p "$OUT$(dirname "$1")"; ln -sfn "$(readlink "$1")" "$OUT$1"; }

copy /proc/cpuinfo /proc/meminfo /proc/pressure/memory /proc/sys/kernel/osrelease /etc/os-release /proc/self/mountinfo
for f in sys_vendor product_name product_serial product_uuid board_vendor board_name bios_vendor bios_version chassis_type; do
  copy "/sys/class/dmi/id/$f"
done
for d in /sys/block/*; do
  mkdir -p "$OUT$d"
  copy "$d/size" "$d/removable" "$d/queue/rotational" "$d/serial" "$d/device/vendor" "$d/device/model" "$d/device/serial" "$d/device/vpd_pg80"
  [ -e "$d/device" ] && mkdir -p "$OUT$d/device"
done
for d in /sys/class/net/*; do
  mkdir -p "$OUT$d"
  copy "$d/address" "$d/addr_assign_type" "$d/carrier" "$d/carrier_up_count" "$d/operstate" "$d/speed" "$d/type" "$d/uevent"
  if [ -e "$d/device" ]; then mkdir -p "$OUT$d/device"; link "$d/device/driver"; link "$d/device/subsystem"; fi
  link "$d/phy80211"
done
for z in /sys/class/thermal/thermal_zone*; do
  [ -e "$z" ] || continue
  copy "$z/type" "$z/temp" "$z"/trip_point_*_type "$z"/trip_point_*_temp
done
for h in /sys/class/hwmon/hwmon*; do
  [ -e "$h" ] || continue
  copy "$h/name" "$h"/temp*_input "$h"/temp*_label "$h"/temp*_crit
done
for p in /sys/class/power_supply/*; do
  [ -e "$p" ] || continue
  copy "$p/uevent" "$p/type"
done
mkdir -p "$OUT/commands"
command -v ip >/dev/null && ip -j link show > "$OUT/commands/ip-link.json"
command -v systemctl >/dev/null && systemctl list-units --failed --output=json --no-pager > "$OUT/commands/systemctl-failed.json" 2>/dev/null
command -v smartctl >/dev/null && for d in /sys/block/*; do
  n="${d##*/}"; case "$n" in loop*|ram*|zram*) continue ;; esac
  smartctl --json -H -A "/dev/$n" > "$OUT/commands/smartctl-$n.json" 2>/dev/null
done
echo "captured into $OUT"
