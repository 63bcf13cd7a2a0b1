#!/usr/bin/env bash
# Runs every benchmark in sequence on an otherwise idle machine and keeps each output in bench/out/.
#   bash bench/run-all.sh            # all
#   bash bench/run-all.sh kernels    # the ones named
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
[ -f bench/data/adl-2M.parquet ] || npx tsx bench/make-adl-dataset.ts
declare -A cmds=(
  [kernels]="npx tsx bench/kernels.ts 1000000 7"
  [hist-fill]="npx tsx bench/hist-fill.ts 10000000 7"
  [merge]="npx tsx bench/merge.ts"
  [codec]="npx tsx bench/codec.ts"
  [read-root]="npx tsx bench/read-root.ts --reps 5"
  [read-parquet]="npx tsx bench/read-parquet.ts --reps 5"
  [events-overhead]="npx tsx bench/events-overhead.ts --reps 5"
  [adl]="npx tsx bench/adl.ts"
  [faas]="npx tsx bench/faas-bench.ts"
  [scaling]="npx tsx bench/scaling/run.ts bench/scaling/quick.json"
  [cpu-overhead]="npx tsx bench/scaling/run.ts bench/scaling/cpu-overhead.json"
  [adl-overhead]="npx tsx bench/scaling/run.ts bench/scaling/adl-overhead.json"
  [scaling-full]="npx tsx bench/scaling/run.ts bench/scaling/full.json"
)
# scaling-full takes ~15 min: run it by name (bash bench/run-all.sh scaling-full).
order=(kernels hist-fill merge codec read-root read-parquet events-overhead adl faas scaling cpu-overhead adl-overhead)
[ $# -gt 0 ] && order=("$@")
for name in "${order[@]}"; do
  echo "== $name: ${cmds[$name]}  (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  ( time ${cmds[$name]} ) > "bench/out/$name.txt" 2>&1
  tail -n 40 "bench/out/$name.txt"
done
