# Reads perfdhcp 2.2 (-4) final report and prints "key value" lines for bench/dhcp.sh.
# Sections "***Statistics for: DISCOVER-OFFER***" (do_*) and "...: REQUEST-ACK***" (ra_*); delays in ms
# ("n/a" when nothing was received, printed as empty). perfdhcp_rate = its "Rate" line: ACKs / whole test time
# (sending period + exit wait).
function num(s) { return (s ~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/) ? s : "" }
/^Rate:/                          { out["perfdhcp_rate"] = num($2) }
/^Malformed packets:/             { out["malformed"] = num($3) }
/Statistics for: DISCOVER-OFFER/  { sec = "do_"; next }
/Statistics for: REQUEST-ACK/     { sec = "ra_"; next }
/Statistics for:/                 { sec = ""; next }
sec != "" && /^sent packets:/     { out[sec "sent"] = num($3) }
sec != "" && /^received packets:/ { out[sec "received"] = num($3) }
sec != "" && /^drops:/            { out[sec "drops"] = num($2) }
sec != "" && /^drops ratio:/      { out[sec "drop_pct"] = num($3) }
sec != "" && /^orphans:/          { out[sec "orphans"] = num($2) }
sec != "" && /^rejected leases:/  { out[sec "rejected"] = num($3) }
sec != "" && /^avg delay:/        { out[sec "avg_ms"] = num($3) }
sec != "" && /^max delay:/        { out[sec "max_ms"] = num($3) }
END {
  n = split("perfdhcp_rate malformed do_sent do_received do_drops do_drop_pct do_orphans do_rejected do_avg_ms do_max_ms " \
            "ra_sent ra_received ra_drops ra_drop_pct ra_orphans ra_rejected ra_avg_ms ra_max_ms", keys, " ")
  for (i = 1; i <= n; i++) print keys[i], ((keys[i] in out) ? out[keys[i]] : "")
}
