#!/usr/bin/env python3
"""Report of bench/assets.sh: reads RESULTS_DIR/runs.jsonl and RESULTS_DIR/meta.txt, prints the tables (markdown)
and writes JSON.

    report.py RESULTS_DIR OUT.json

HTTP: throughput = bytes wrk read / its run time (MiB/s); CPU per GiB = server process-tree CPU (utime + stime +
cutime + cstime of the server and every descendant, threads included: dotnet + embedded etcd for ours, master +
worker for nginx) / GiB read. Ratios ours / nginx; targets (issue 4): throughput >= 0.9x at CPU per GiB <= 1.5x.

TFTP: median seconds per 16 MiB transfer per server and mode; a peer whose OACK did not grant the mode's options
(e.g. windowsize) is reported as not supporting the mode and left out of "best peer". Target: ours <= best peer.
"""
import json
import os
import statistics
import sys

THROUGHPUT_TARGET = 0.9
CPU_TARGET = 1.5
MODE_NAMES = {"512": "512-byte blocks", "1468": "blksize 1468", "1468w64": "blksize 1468 + windowsize 64"}
MODE_WANT = {"512": (512, 1), "1468": (1468, 1), "1468w64": (1468, 64)}
NAMES = {"ours": "nekko-bootserver", "nginx": "nginx", "tftpd-hpa": "tftpd-hpa", "atftpd": "atftpd"}


def main():
    results, out_json = sys.argv[1], sys.argv[2]
    runs = []
    with open(os.path.join(results, "runs.jsonl"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                runs.append(json.loads(line))
    meta = {}
    with open(os.path.join(results, "meta.txt"), encoding="utf-8") as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition(" ")
            meta[k] = v

    report = {"meta": meta, "http": [], "http_ratios": [], "tftp": [], "tftp_ratios": []}
    lines = []

    http = [r for r in runs if r.get("part") == "http"]
    if http:
        lines.append("| clients | server | requests done | MiB/s | server CPU s | CPU s per GiB | errors (non-2xx, socket) |")
        lines.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
        for c in sorted({r["clients"] for r in http}):
            for s in ("ours", "nginx"):
                rs = [r for r in http if r["clients"] == c and r["server"] == s]
                if not rs:
                    continue
                mib = statistics.median(r["mib_per_s"] for r in rs)
                cpu = statistics.median(r["server_cpu_s"] for r in rs)
                per = statistics.median(r["cpu_s_per_gib"] for r in rs)
                req = statistics.median(r["requests"] for r in rs)
                err = sum(r["non2xx"] for r in rs), sum(r["socket_errors"] for r in rs)
                report["http"].append({"clients": c, "server": s, "mib_per_s": mib, "server_cpu_s": cpu,
                                       "cpu_s_per_gib": per, "requests": req, "non2xx": err[0], "socket_errors": err[1]})
                lines.append(f"| {c} | {NAMES[s]} | {req:g} | {mib:.0f} | {cpu:.2f} | {per:.3f} | {err[0]}, {err[1]} |")
        lines.append("")
        lines.append("| clients | throughput ours / nginx | CPU per GiB ours / nginx | target (>= 0.9x at <= 1.5x) |")
        lines.append("| ---: | ---: | ---: | --- |")
        for c in sorted({r["clients"] for r in report["http"]}):
            o = next((r for r in report["http"] if r["clients"] == c and r["server"] == "ours"), None)
            n = next((r for r in report["http"] if r["clients"] == c and r["server"] == "nginx"), None)
            if not o or not n or not n["mib_per_s"] or not n["cpu_s_per_gib"]:
                continue
            tr = o["mib_per_s"] / n["mib_per_s"]
            cr = o["cpu_s_per_gib"] / n["cpu_s_per_gib"]
            met = tr >= THROUGHPUT_TARGET and cr <= CPU_TARGET
            report["http_ratios"].append({"clients": c, "throughput": tr, "cpu_per_gib": cr, "met": met})
            lines.append(f"| {c} | {tr:.2f} | {cr:.2f} | {'met' if met else 'NOT met'} |")
        lines.append("")

    tftp = [r for r in runs if r.get("part") == "tftp"]
    if tftp:
        lines.append("| mode | server | granted (blksize, window) | transfers ok | median s | min / max s | server CPU s (median) |")
        lines.append("| --- | --- | --- | ---: | ---: | ---: | ---: |")
        modes = [m for m in ("512", "1468", "1468w64") if any(r["mode"] == m for r in tftp)]
        for m in modes:
            for s in ("ours", "tftpd-hpa", "atftpd"):
                rs = [r for r in tftp if r["mode"] == m and r["server"] == s]
                if not rs:
                    continue
                ok = [r for r in rs if r["ok"]]
                granted = (rs[0]["granted_blksize"], rs[0]["granted_windowsize"])
                supports = granted == MODE_WANT[m]
                row = {"mode": m, "server": s, "granted_blksize": granted[0], "granted_windowsize": granted[1],
                       "supports_mode": supports, "transfers": len(rs), "ok": len(ok),
                       "median_s": statistics.median(r["seconds"] for r in ok) if ok else None,
                       "min_s": min((r["seconds"] for r in ok), default=None),
                       "max_s": max((r["seconds"] for r in ok), default=None),
                       "server_cpu_s": statistics.median(r["server_cpu_s"] for r in ok) if ok else None}
                report["tftp"].append(row)
                note = "" if supports else " — mode not supported"
                med = f"{row['median_s']:.3f}" if ok else "—"
                mm = f"{row['min_s']:.3f} / {row['max_s']:.3f}" if ok else "—"
                cpu = f"{row['server_cpu_s']:.2f}" if ok else "—"
                lines.append(f"| {MODE_NAMES[m]} | {NAMES[s]} | {granted[0]}, {granted[1]}{note} | {len(ok)}/{len(rs)} | {med} | {mm} | {cpu} |")
        lines.append("")
        lines.append("| mode | ours s | best peer (s) | ours / best peer | per-round ratio, median (min–max) | server CPU ours / that peer | target (<= 1.0) |")
        lines.append("| --- | ---: | --- | ---: | ---: | ---: | --- |")
        for m in modes:
            o = next((r for r in report["tftp"] if r["mode"] == m and r["server"] == "ours"), None)
            peers = [r for r in report["tftp"] if r["mode"] == m and r["server"] != "ours"
                     and r["supports_mode"] and r["median_s"] is not None]
            if not o or o["median_s"] is None or not peers:
                continue
            best = min(peers, key=lambda r: r["median_s"])
            ratio = o["median_s"] / best["median_s"]
            # per round: ours against the fastest supporting peer of the same round (interleaved, so the load
            # of the moment hits both alike)
            per_round = []
            peer_names = {r["server"] for r in peers}
            for rnd in sorted({r["round"] for r in tftp if r["mode"] == m}):
                rr = [r for r in tftp if r["mode"] == m and r["round"] == rnd and r["ok"]]
                ours_r = [r["seconds"] for r in rr if r["server"] == "ours"]
                peer_r = [r["seconds"] for r in rr if r["server"] in peer_names]
                if ours_r and peer_r:
                    per_round.append(ours_r[0] / min(peer_r))
            cpu_ratio = (o["server_cpu_s"] / best["server_cpu_s"]) if best["server_cpu_s"] else None
            met = ratio <= 1.0 and o["supports_mode"]
            report["tftp_ratios"].append({"mode": m, "ours_s": o["median_s"], "best_peer": best["server"],
                                          "best_peer_s": best["median_s"], "ratio": ratio,
                                          "per_round_ratios": per_round, "cpu_ratio": cpu_ratio, "met": met})
            pr = (f"{statistics.median(per_round):.2f} ({min(per_round):.2f}–{max(per_round):.2f})" if per_round else "—")
            cr = f"{cpu_ratio:.2f}" if cpu_ratio else "—"
            lines.append(f"| {MODE_NAMES[m]} | {o['median_s']:.3f} | {NAMES[best['server']]} ({best['median_s']:.3f}) | {ratio:.2f} | {pr} | {cr} | {'met' if met else 'NOT met'} |")
        lines.append("")

    print("\n".join(lines))
    report["runs"] = runs
    with open(out_json, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    print(f"results: {out_json}")


if __name__ == "__main__":
    main()
