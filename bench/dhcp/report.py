#!/usr/bin/env python3
"""Report of bench/dhcp.sh: reads RESULTS_DIR/*/metrics.txt and RESULTS_DIR/meta.txt, prints the tables and
writes JSON and CSV.

    report.py RESULTS_DIR OUT.json OUT.csv

Derived figures (shared/BENCH.md):
- ACKs = perfdhcp's REQUEST-ACK "received packets".
- test time = ACKs / perfdhcp's "Rate" (perfdhcp divides ACKs by its whole test time: sending period + exit
  wait); sending period = test time - exit wait (-W). With no ACK at all, the wall time of perfdhcp stands in.
- leases/s = ACKs / sending period.
- failures = 1 - ACKs / DISCOVERs sent (every exchange that did not end in an ACK within the drop time);
  perfdhcp's own drop ratios per exchange type are kept as well.
- server CPU = utime + stime + cutime + cstime of the server process and every descendant (threads included;
  for nekko-bootserver that is dotnet plus its embedded etcd child), read from /proc/PID/stat right before and
  right after perfdhcp; CPU per lease = server CPU / ACKs.
- other cores = (user + nice + system time of the whole machine - server CPU - perfdhcp CPU) / wall time: how
  much of the 2 cores something else used during the run. A run with more than 0.25 of a core used by others is
  flagged "busy".
"""
import csv
import json
import os
import statistics
import sys

BUSY_OTHER_CORES = 0.25
SERVER_NAMES = {"ours": "nekko-bootserver", "kea": "Kea", "dnsmasq": "dnsmasq"}


def read_kv(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            key, _, value = line.partition(" ")
            out[key] = value
    return out


def fnum(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def derive(m):
    r = {
        "server": m["server"],
        "rate": m["rate"],
        "round": int(m["round"]),
        "requests_n": int(m["requests"]),
    }
    for key in ("do_sent", "do_received", "ra_sent", "ra_received", "do_orphans", "ra_orphans",
                "do_rejected", "ra_rejected", "malformed", "leases_stored"):
        v = fnum(m.get(key))
        r[key] = int(v) if v is not None else None
    for key in ("perfdhcp_rate", "do_drop_pct", "ra_drop_pct", "do_avg_ms", "do_max_ms", "ra_avg_ms", "ra_max_ms",
                "wall_s", "exit_wait_s", "server_cpu_s", "server_main_cpu_s", "server_children_cpu_s", "perfdhcp_cpu_s", "system_busy_s",
                "load1_before", "load1_after"):
        r[key] = fnum(m.get(key))

    acks = r["ra_received"] or 0
    discovers = r["do_sent"] or 0
    r["acks"] = acks
    if acks > 0 and r["perfdhcp_rate"]:
        test_time = acks / r["perfdhcp_rate"]
    else:
        test_time = r["wall_s"]
    r["test_time_s"] = test_time
    r["sending_period_s"] = max(test_time - (r["exit_wait_s"] or 0), 1e-9)
    r["leases_per_s"] = acks / r["sending_period_s"]
    r["failure_pct"] = 100.0 * (1 - acks / discovers) if discovers else None
    r["cpu_us_per_lease"] = r["server_cpu_s"] * 1e6 / acks if acks else None
    r["server_core_pct"] = 100.0 * r["server_cpu_s"] / r["wall_s"] if r["wall_s"] else None
    r["dora_avg_ms"] = (r["do_avg_ms"] or 0) + (r["ra_avg_ms"] or 0) if r["ra_avg_ms"] is not None else None
    other = (r["system_busy_s"] or 0) - (r["server_cpu_s"] or 0) - (r["perfdhcp_cpu_s"] or 0)
    r["other_cores"] = max(other, 0.0) / r["wall_s"] if r["wall_s"] else None
    r["busy"] = bool(r["other_cores"] is not None and r["other_cores"] > BUSY_OTHER_CORES)
    return r


def rate_key(rate):
    return (1, 0) if rate == "flood" else (0, int(rate))


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


SUMMARY_FIELDS = ("do_sent", "acks", "leases_per_s", "failure_pct", "do_drop_pct", "ra_drop_pct", "do_avg_ms",
                  "do_max_ms", "ra_avg_ms", "ra_max_ms", "dora_avg_ms", "server_cpu_s", "server_main_cpu_s",
                  "server_children_cpu_s", "cpu_us_per_lease",
                  "server_core_pct", "perfdhcp_cpu_s", "leases_stored", "load1_before", "load1_after",
                  "other_cores")


def summarize(runs):
    groups = {}
    for r in runs:
        groups.setdefault((r["rate"], r["server"]), []).append(r)
    summary = []
    for (rate, server), rs in sorted(groups.items(), key=lambda kv: (rate_key(kv[0][0]), kv[0][1])):
        s = {"rate": rate, "server": server, "runs": len(rs), "busy_runs": sum(r["busy"] for r in rs)}
        for f in SUMMARY_FIELDS:
            s[f] = median([r[f] for r in rs])
        summary.append(s)
    return summary


def ratios(summary):
    by = {(s["rate"], s["server"]): s for s in summary}
    out = []
    for rate in sorted({s["rate"] for s in summary}, key=rate_key):
        ours = by.get((rate, "ours"))
        if not ours:
            continue
        for peer in ("kea", "dnsmasq"):
            p = by.get((rate, peer))
            if not p:
                continue

            def ratio(f):
                a, b = ours.get(f), p.get(f)
                return a / b if a is not None and b not in (None, 0) else None

            out.append({
                "rate": rate, "peer": peer,
                "leases_per_s": ratio("leases_per_s"),
                "cpu_us_per_lease": ratio("cpu_us_per_lease"),
                "dora_avg_ms": ratio("dora_avg_ms"),
                "failure_pct_ours": ours["failure_pct"], "failure_pct_peer": p["failure_pct"],
            })
    return out


def fmt(v, digits=0, dash="—"):
    if v is None:
        return dash
    if digits == 0:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def print_table(rows, title, per_run):
    head = ["rate", "server"] + (["round"] if per_run else []) + [
        "DISCOVERs", "ACKs", "leases/s", "fail %", "DO drop %", "RA drop %", "DO avg/max ms", "RA avg/max ms",
        "CPU s", "child s", "µs/lease", "core %", "stored", "load1", "others"]
    table = []
    for r in rows:
        line = [r["rate"], SERVER_NAMES[r["server"]]] + ([str(r["round"])] if per_run else []) + [
            fmt(r["do_sent"]), fmt(r["acks"]), fmt(r["leases_per_s"]), fmt(r["failure_pct"], 1),
            fmt(r["do_drop_pct"], 1), fmt(r["ra_drop_pct"], 1),
            f"{fmt(r['do_avg_ms'], 2)} / {fmt(r['do_max_ms'], 0)}", f"{fmt(r['ra_avg_ms'], 2)} / {fmt(r['ra_max_ms'], 0)}",
            fmt(r["server_cpu_s"], 2), fmt(r["server_children_cpu_s"], 2), fmt(r["cpu_us_per_lease"], 0), fmt(r["server_core_pct"], 0),
            fmt(r["leases_stored"]), f"{fmt(r['load1_before'], 2)}→{fmt(r['load1_after'], 2)}",
            fmt(r["other_cores"], 2) + (" busy" if r.get("busy") or r.get("busy_runs") else "")]
        table.append(line)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *table)]
    print(f"\n{title}")
    print("  ".join(h.rjust(w) for h, w in zip(head, widths)))
    for line in table:
        print("  ".join(str(x).rjust(w) for x, w in zip(line, widths)))


def main():
    results_dir, json_path, csv_path = sys.argv[1:4]
    meta = read_kv(os.path.join(results_dir, "meta.txt"))
    runs = []
    for name in sorted(os.listdir(results_dir)):
        path = os.path.join(results_dir, name, "metrics.txt")
        if os.path.isfile(path):
            runs.append(derive(read_kv(path)))
    runs.sort(key=lambda r: (r["round"], rate_key(r["rate"]), r["server"]))
    if not runs:
        print("no runs", file=sys.stderr)
        return 1
    summary = summarize(runs)
    rat = ratios(summary)

    print(f"\nDHCP DORA, perfdhcp relayed, {meta.get('started', '?')} → {meta.get('finished', '?')}; "
          f"load at start {meta.get('load_at_start', '?')}, at end {meta.get('load_at_end', '?')}")
    print(f"server on core {meta.get('server_cpu')}, perfdhcp on core {meta.get('client_cpu')}; "
          f"Kea {meta.get('kea', '')}, dnsmasq {meta.get('dnsmasq', '')}, perfdhcp {meta.get('perfdhcp', '')}, "
          f"etcd {meta.get('etcd', '')}; boot server built {meta.get('bootserver_built', '?')} from "
          f"{meta.get('bootserver_built_from', '?')}")
    if len({r["round"] for r in runs}) > 1:
        print_table(runs, "Runs", per_run=True)
        print_table(summary, "Medians over rounds", per_run=False)
    else:
        print_table(runs, "Runs", per_run=False)
    print("  leases/s = ACKs / sending period; fail % = 1 - ACKs/DISCOVERs; latencies are perfdhcp's (DO = "
          "DISCOVER→OFFER, RA = REQUEST→ACK, answers later than 1 s count as drops); CPU = server process tree "
          "(ours: dotnet + embedded etcd), child s = the part used by its child processes (ours: etcd); core % = server CPU / wall time of the run; stored = leases in the "
          "server's store after the run; others = cores used by other processes during the run.")

    if rat:
        print("\nRatios, ours / peer (medians)")
        print(f"{'rate':>6}  {'peer':>8}  {'leases/s':>9}  {'CPU/lease':>9}  {'DORA avg latency':>16}  "
              f"{'fail % ours vs peer':>20}")
        for x in rat:
            print(f"{x['rate']:>6}  {x['peer']:>8}  {fmt(x['leases_per_s'], 3):>9}  {fmt(x['cpu_us_per_lease'], 1):>9}  "
                  f"{fmt(x['dora_avg_ms'], 1):>16}  "
                  f"{fmt(x['failure_pct_ours'], 1) + ' vs ' + fmt(x['failure_pct_peer'], 1):>20}")
    busy = [r for r in runs if r["busy"]]
    if busy:
        print(f"\nwarning: {len(busy)} run(s) shared the machine with other work (> {BUSY_OTHER_CORES} of a core used "
              "by other processes): their absolute figures are inflated; compare ratios, or rerun when quiet.")

    with open(json_path, "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "runs": runs, "summary": summary, "ratios": rat}, f, indent=2)
    fields = list(runs[0].keys())
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(runs)
    print(f"\nwritten: {json_path}\n         {csv_path}\n         {results_dir}/ (perfdhcp output and server log of each run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
