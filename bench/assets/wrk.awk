# Parses wrk's output into one JSON line (bench/assets.sh). Variables: s (server), c (connections), t0/t1 (wall
# clock around wrk), k0/k1 (server CPU, in units of hz per second), b0/b1 (machine busy ticks, bhz per second), hz, bhz, l0/l1 (load average).
# wrk prints sizes with binary prefixes (KB = 1024 B).
function bytes(v,   n, u) {
  n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
  if (u == "KB") n *= 1024; else if (u == "MB") n *= 1048576; else if (u == "GB") n *= 1073741824; else if (u == "TB") n *= 1099511627776
  return n
}
/requests in/ { requests = $1; secs = $4; sub(/s,$/, "", secs); read = bytes($5) }
/Non-2xx or 3xx responses:/ { non2xx = $NF }
/Socket errors:/ { gsub(/,/, ""); errors = $4 + $6 + $8 + $10 }
END {
  cpu = (k1 - k0) / hz
  gib = read / 1073741824
  printf "{\"part\":\"http\",\"server\":\"%s\",\"clients\":%d,\"round\":%d,\"requests\":%d,\"wrk_seconds\":%.3f,\"wall_s\":%.3f,\"bytes\":%.0f,\"mib_per_s\":%.1f,\"server_cpu_s\":%.3f,\"cpu_s_per_gib\":%.4f,\"system_busy_s\":%.3f,\"non2xx\":%d,\"socket_errors\":%d,\"load1_before\":%s,\"load1_after\":%s}\n",
    s, c, round, requests, secs, t1 - t0, read, (secs > 0 ? read / 1048576 / secs : 0), cpu, (gib > 0 ? cpu / gib : 0),
    (b1 - b0) / bhz, non2xx + 0, errors + 0, l0, l1
}
