#!/usr/bin/env bash
# Regenerates frequency_lists.lzma from the six lists (see
# src/frequency_lists.rs): one list a line, in upstream's order, no newline
# after the last; LZMA "alone" format with settings that suit text.
set -euo pipefail
cd "$(dirname "$0")"
for list in passwords english_wiki female_names surnames us_tv_and_film male_names; do
  cat "$list.txt"
done | head -c -1 |
  xz --format=lzma --lzma1=preset=9e,lc=4,pb=0,lp=0 -c >frequency_lists.lzma
