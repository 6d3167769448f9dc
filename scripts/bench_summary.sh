#!/usr/bin/env bash
# Renders the JSON lines of scripts/bench.sh as Markdown tables: sealfs next to
# the local directory with their ratio, the protocol round trips, and the
# resident memory after a million files.
#   usage: scripts/bench_summary.sh results.jsonl
set -euo pipefail
if [[ $# -ne 1 || $1 == -h || $1 == --help ]]; then
  echo "usage: $0 RESULTS.jsonl   (written by scripts/bench.sh)" >&2
  exit 2
fi
[[ -r $1 ]] || { echo "bench_summary.sh: cannot read $1" >&2; exit 1; }

jq -rs '
  def key: "\(.phase)|\(.layout)|\(.threads)";
  def round(p): (. * p | round) / p;
  def lat: "\(.p50_us | round(10)) / \(.p99_us | round(10))";
  # Sequential phases are judged by bandwidth, the rest by operations.
  def figure: if .phase == "seq_write" or .phase == "seq_read" then .mib_per_s else .ops_per_s end;
  def unit: if .phase == "seq_write" or .phase == "seq_read" then "MiB/s" else "ops/s" end;

  (map(select(.tool == "sealfs-fsbench" and .target == "local")) | map({key: key, value: .})
   | from_entries) as $local
  | [map(select(.tool == "sealfs-fsbench" and .target == "sealfs"))[]
     | . as $s | $local[$s | key] as $l
     | "| \(.phase) | \(if .layout == "" then "-" else .layout end) | \(.threads) | \(unit) "
       + "| \(figure | round(1)) | \(if $l then ($l | figure | round(1)) else "-" end) "
       + "| \(if $l and ($l | figure) > 0 then (figure / ($l | figure) | round(1000)) else "-" end) "
       + "| \(lat) | \(if $l then ($l | lat) else "-" end) |"] as $fs
  | [map(select(.tool == "sealfs-rpcbench"))[]
     | "| \(.phase) | \(.threads) | \(.ops_per_s | round(1)) | \(lat) |"] as $rpc
  | [map(select(.tool == "bench.sh"))[]
     | "| \(.target) | \(.kib / 1024 | round(10)) |"] as $mem
  | (if ($fs | length) > 0 then
       ["| phase | layout | threads | unit | sealfs | local | sealfs/local | sealfs p50 / p99 us | local p50 / p99 us |",
        "|---|---|---|---|---|---|---|---|---|"] + $fs + [""]
     else [] end)
    + (if ($rpc | length) > 0 then
       ["| protocol request | in flight | requests/s | p50 / p99 us |", "|---|---|---|---|"] + $rpc + [""]
     else [] end)
    + (if ($mem | length) > 0 then
       ["| process (after 1,000,000 files) | VmRSS MiB |", "|---|---|"] + $mem + [""]
     else [] end)
  | .[]
' "$1"
