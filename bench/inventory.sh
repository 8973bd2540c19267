#!/usr/bin/env bash
# Inventory read latency: nekko-bootserver's admin API against raw etcd, interleaved in one run (issue 2).
# Builds bench/InventoryBench (Release by default) and runs it; arguments go to the program (--help lists them).
#
#   bench/inventory.sh                        # 10,000 machines, 5 rounds x 1,000 samples of each kind
#   bench/inventory.sh --samples 200          # quicker
#   BENCH_CPUS=1 bench/inventory.sh           # everything (bench, boot server, etcd) under taskset -c 1
#   CONFIGURATION=Debug bench/inventory.sh    # Debug: builds only the bench project (its dependencies must be built)
#   NO_BUILD=1 bench/inventory.sh             # run what was built last
#
# Needs Debian's etcd-server (/usr/bin/etcd). Results: a table on stdout and bench/results/inventory-<time>.json.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
config=${CONFIGURATION:-Release}
project=bench/InventoryBench/InventoryBench.csproj

if [[ ! -x /usr/bin/etcd && ! -x /usr/local/bin/etcd ]]; then
  echo "inventory.sh: etcd is not installed (apt-get install etcd-server)" >&2
  exit 1
fi

if [[ "${NO_BUILD:-0}" != 1 ]]; then
  if [[ "$config" == Debug ]]; then
    # the Debug outputs of src/ and tests/ belong to whoever is building them: do not rebuild them here
    dotnet build "$project" -c Debug --no-dependencies -nologo -v quiet
  else
    # Release outputs live in their own bin/Release and obj/Release folders
    if ! dotnet build "$project" -c "$config" -nologo -v quiet; then
      # src/ may be half-edited by someone else: fall back to the last good build of the dependencies, if any
      if [[ -f "src/BootServer/bin/$config/net10.0/nekko-bootserver.dll" && -f "tests/TestKit/bin/$config/net10.0/NekkoMetal.TestKit.dll" ]]; then
        echo "inventory.sh: building the dependencies failed; using their last $config build (see the boot server's build time in the output)" >&2
        dotnet build "$project" -c "$config" --no-dependencies -nologo -v quiet
      else
        exit 1
      fi
    fi
  fi
fi

cmd=(dotnet "bench/InventoryBench/bin/$config/net10.0/NekkoMetal.Bench.dll" "$@")
if [[ -n "${BENCH_CPUS:-}" ]]; then
  cmd=(taskset -c "$BENCH_CPUS" "${cmd[@]}")
fi

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
exec "${cmd[@]}"
