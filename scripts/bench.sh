#!/usr/bin/env bash
# The one entry point for benchmarks: builds (via setup), prints the machine, then runs each
# benchmark beside its peer in the same run and prints a Markdown table with the ratio.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh" >/dev/null

cpu_model="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
flags="$(grep -m1 '^flags' /proc/cpuinfo)"
features=""
for f in avx2 fma avx512f avx512_bf16 amx_bf16; do
  case " $flags " in *" $f "*) features="$features $f" ;; esac
done
echo "CPU: $cpu_model ($(nproc) cores;$features)"
echo "Date: $(date -u +%Y-%m-%d), commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo

json_field() { /usr/bin/python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

# --- MIDI read: bachgen vs mido ------------------------------------------------------------
corpus="$root/data/bach-chorales-midi/satb"
ours="$("$root/build/bench/bench_midi_read" "$corpus" --min-seconds 5)"
theirs="$(/usr/bin/python3 "$root/bench/python/mido_read.py" "$corpus" --min-seconds 5)"
ratio="$(/usr/bin/python3 -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print('%.0f' % (a['files_per_second']/b['files_per_second']))" "$ours" "$theirs")"
echo "### Reading the 373 chorale MIDI files (read + parse + note pairing, one thread)"
echo
echo "| reader | rounds | files/s | MB/s | notes/round |"
echo "|---|---:|---:|---:|---:|"
for r in "$ours" "$theirs"; do
  echo "| $(json_field "$r" tool) | $(json_field "$r" rounds) | $(json_field "$r" files_per_second) | $(json_field "$r" mb_per_second) | $(json_field "$r" notes_per_round) |"
done
echo
echo "bachgen / mido: ${ratio}x (goal: at least 300x)"
