#!/usr/bin/env bash
# End-to-end wall time (run-analysis metrics.json wallSeconds) of each ADL query, hand loop (bench/hand) vs
# idiomatic fused processor (processors/adl), interleaved per query, for each executor.
#
#   bench/fused-e2e.sh FILE [QUERIES] [EXECUTORS]
#   bench/fused-e2e.sh bench/data/adl-2M.parquet 1,2,3,4,5,6,7,8 iterative,threads
#
# Prints one Markdown row per query and executor; histograms of both runs are compared bin for bin.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
file="$(realpath "$1")"
queries="${2:-1,2,3,4,5,6,7,8}"
executors="${3:-iterative,threads}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf '{"adl": {"files": {"%s": "Events"}}}\n' "$file" > "$work/dataset.json"
wall() { node -e 'const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(m.wallSeconds.toFixed(2))' "$1/metrics.json"; }
echo "file: $file; $(nproc) cores; $(uptime)"
echo "| query | executor | hand loop (s) | idiomatic (s) | idiomatic / hand | same histograms |"
echo "|---|---|---|---|---|---|"
for q in ${queries//,/ }; do
  for ex in ${executors//,/ }; do
    opts=(--executor "$ex" --quiet --no-cache)
    [ "$ex" = threads ] && opts+=(--workers 2)
    node "$repo/bin/run-analysis.mjs" "$work/dataset.json" "$here/hand/query-$q.ts" "${opts[@]}" -o "$work/hand" >/dev/null
    node "$repo/bin/run-analysis.mjs" "$work/dataset.json" "$repo/processors/adl/query-$q.ts" "${opts[@]}" -o "$work/fused" >/dev/null
    h="$(wall "$work/hand")"; f="$(wall "$work/fused")"
    same=no
    if node -e '
      const fs = require("fs"), path = require("path");
      const read = (d) => fs.readdirSync(d).filter((x) => x.endsWith(".json") && x !== "metrics.json").sort().map((x) => {
        const j = JSON.parse(fs.readFileSync(path.join(d, x), "utf8")); delete j.metadata; return JSON.stringify(j); });
      process.exit(JSON.stringify(read(process.argv[1])) === JSON.stringify(read(process.argv[2])) ? 0 : 1);' "$work/hand" "$work/fused"; then same=yes; fi
    echo "| Q$q | $ex | $h | $f | $(node -e "console.log(($f / $h).toFixed(2))")× | $same |"
  done
done
