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

# --- Tokenizing vs reading, and prepare ---------------------------------------------------
tok="$("$root/build/bench/bench_tokenize" "$corpus" "$root/build/bench-data/chorales" --min-seconds 5)"
echo
echo "### Tokenizing against reading, per chorale MIDI file (one thread)"
echo
echo "| work | us per file | x read |"
echo "|---|---:|---:|"
echo "| read: file read + parse + note pairing | $(json_field "$tok" read_us) | 1.00 |"
echo "| MIDI -> Score -> 16th grid -> satb16-onset | $(json_field "$tok" satb16_onset_us) | $(json_field "$tok" satb16_onset_over_read) |"
echo "| MIDI -> performance notes -> performance388 | $(json_field "$tok" performance388_us) | $(json_field "$tok" performance388_over_read) |"
echo
echo "Goal: tokenizing costs at most 2x reading (miditok's MIDILike costs about 58x a symusic read)."
echo "bachgen prepare, 373 MIDI chorales -> satb16-onset shards: $(json_field "$tok" prepare_files_per_second) files/s on $(json_field "$tok" prepare_threads) threads."

# --- Data loader ----------------------------------------------------------------------------
"$root/build/bin/bachgen" prepare "$root/data/jsb-chorales/Jsb16thSeparated.json" \
  --out "$root/build/bench-data/jsb" >/dev/null
echo
echo "### Window loader over the JSB train shard (batch 16 x 256 tokens, augmentation on)"
echo
echo "| workers | tokens/s | x 2,500 tokens/s |"
echo "|---:|---:|---:|"
"$root/build/bench/bench_loader" "$root/build/bench-data/jsb/train.tokens" --min-seconds 3 |
while read -r line; do
  w="$(json_field "$line" workers)"
  t="$(json_field "$line" tokens_per_second)"
  echo "| $w | $t | $(/usr/bin/python3 -c "print('%.0f' % ($t / 2500))") |"
done
echo
echo "2,500 tokens/s is what a plain Python PyTorch trainer consumed on this kind of machine"
echo "(issue 5); goal: the loader delivers at least 50x what the trainer consumes."

# --- Attention memory and time --------------------------------------------------------------
echo
echo "### One attention layer, forward + backward (D = 512, 8 heads, batch 1, fp32, all cores)"
echo
echo "Each case runs in its own process; peak = the process's peak resident memory (getrusage),"
echo "including about 165 MB of program and LibTorch before the first pass."
echo
echo "| L | plain: peak MB, s | skew-relative: peak MB, s | naive-relative: peak MB, s | skew / plain memory |"
echo "|---:|---:|---:|---:|---:|"
attention_case() {  # MODE LENGTH -> "peak MB, seconds" or "does not fit"
  local line
  # A cap below the machine's 24 GiB, so a case that cannot fit fails cleanly.
  line="$( (ulimit -v 23000000; "$root/build/bench/bench_attention" "$1" "$2") 2>/dev/null || true)"
  if [ -z "$line" ] || [ "$(json_field "$line" fits)" != "True" ]; then echo "does not fit"; return; fi
  echo "$(json_field "$line" peak_rss_mb), $(json_field "$line" seconds)"
}
for length in 512 1024 2048 4096 8192; do
  plain="$(attention_case plain "$length")"
  skew="$(attention_case skew "$length")"
  naive="$(attention_case naive "$length")"
  ratio="$(/usr/bin/python3 -c "import sys; a=sys.argv[1].split(',')[0]; b=sys.argv[2].split(',')[0]; print('%.2f' % (float(a)/float(b)) if a[0].isdigit() and b[0].isdigit() else '-')" "$skew" "$plain")"
  echo "| $length | $plain | $skew | $naive | $ratio |"
done
echo
echo "Goal: skew uses at most 1.3x the memory of plain attention at L = 2048."

# --- Training throughput: bachgen train vs Python PyTorch -----------------------------------
echo
echo "### Training throughput against Python PyTorch 1.13 (same model math, batch, window, threads, precision)"
echo
echo "Each case alternates bachgen and bench/python/train_throughput.py (rounds), best of each;"
echo "tokens/s over the timed steps after warm-up. MFU = model FLOPs per second (training ="
echo "3 x the forward pass's 2 FLOPs per multiply-add, attention included) over the measured"
echo "peak of a 1024 x 1024 matmul in the same precision."
echo
echo "| model | precision | batch x window | bachgen tokens/s | Python tokens/s | bachgen / Python | matmul peak GFLOP/s | MFU bachgen | MFU Python |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
train_case() {  # PRESET PRECISION STEPS ROUNDS
  local line
  line="$("$root/build/bench/bench_train" --data "$root/build/bench-data/jsb" --preset "$1" --precision "$2" \
    --batch 16 --length 256 --steps "$3" --warmup 2 --rounds "$4" \
    --python "$root/bench/python/train_throughput.py" --out "$root/build/bench-data/train-runs")"
  /usr/bin/python3 - "$line" <<'PY'
import json, sys
j = json.loads(sys.argv[1])
b, p = j["bachgen"], j["python"]
print("| %s | %s | %d x %d | %.0f | %.0f | **%.2fx** | %.0f | %.1f%% | %.1f%% |" % (
    j["preset"], j["precision"], j["batch"], j["length"], b["tokens_per_second"], p["tokens_per_second"],
    j["ratio"], j["matmul_peak_gflops"], 100 * b["mfu"], 100 * p["mfu"]))
PY
}
train_case jsb-small fp32 10 2
train_case jsb-small bf16 4 1
train_case lstm-base fp32 4 1
echo
echo "Goal: bachgen at least 1.3x Python for the transformer."

# --- Generation --------------------------------------------------------------------------
echo
echo "### Generation at batch 1 (untrained weights: speed does not depend on them)"
echo
echo "Whole sequences of L tokens from BOS, tokens/s: LibTorch's cached step, and the fast decoder"
echo "(model/fast_decode.h) with fp32 and with int8 weights (the default). tail: tokens/s over the"
echo "last 16 tokens up to L, the fast int8 decoder against the recompute generator (the whole prefix"
echo "through the model for every token)."
echo
echo "| model | L | LibTorch step | fast fp32 | fast int8 | x LibTorch | int8 tail | recompute tail | cache speed-up |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for preset in jsb-base lstm-base; do
  "$root/build/bench/bench_generate" "$root/build/bench-data/gen" "$preset" 256 1024 2048 |
  while read -r line; do
    /usr/bin/python3 - "$line" <<'PY'
import json, sys
j = json.loads(sys.argv[1])
print("| %s | %d | %.0f | %.0f | %.0f | %.2fx | %.0f | %.2f | %.0fx |" % (j["preset"], j["length"], j["libtorch_step"],
      j["fast_fp32"], j["fast_int8"], j["fast_int8"] / j["libtorch_step"], j["fast_int8_tail"], j["recompute_tail"],
      j["speedup"]))
PY
  done
done
echo
# Process start to a written chorale: the default command (bundled jsb-compose, fast int8), and
# jsb-base with each decoder. Best of three runs each (a cold first run reads the files).
time_generate() {
  local best=""
  for _ in 1 2 3; do
    local start end
    start="$(date +%s.%N)"
    "$root/build/bin/bachgen" generate "$@" --steps 256 --full-length --seed 1 --out "$root/build/bench-data/gen/chorale" >/dev/null
    end="$(date +%s.%N)"
    best="$(/usr/bin/python3 -c "import sys; t = $end - $start; b = '$best'; print('%.2f' % (min(t, float(b)) if b else t))")"
  done
  echo "$best"
}
echo "Process start to a 1024-token chorale (256 steps) written as MIDI + MusicXML, best of 3:"
echo
echo "| model | decoder | seconds |"
echo "|---|---|---:|"
echo "| jsb-compose (bundled) | fast int8 (default) | $(time_generate --audio none) |"
echo "| jsb-compose (bundled) | fast int8, + WAV audio (FluidSynth) | $(time_generate --audio wav) |"
gen_model="$root/build/bench-data/gen/jsb-base.pt"
echo "| jsb-base | fast int8 (default) | $(time_generate --model "$gen_model" --audio none) |"
echo "| jsb-base | fast fp32 | $(time_generate --model "$gen_model" --decode-weights fp32 --audio none) |"
echo "| jsb-base | LibTorch step | $(time_generate --model "$gen_model" --decoder torch --audio none) |"
echo
echo "Goals: the cache at least 20x the recompute generator at L = 1024; at least 1,000 tokens/s"
echo "with the cache; at most 2 s from process start to the written chorale."

# --- The studio under load ------------------------------------------------------------------
echo
"$root/build/bench/bench_serve" --bachgen "$root/build/bin/bachgen" --seconds 60
echo
echo "Goal: no 5xx, no crash, memory flat (the store holds 24 results here, so it fills early)."

# --- Data-parallel training -----------------------------------------------------------------
# jsb-small, global batch 16 x 256, fp32: one process with 2 threads against two processes with
# one thread each (gloo on loopback), overlapped buckets and not. Step time from metrics.jsonl
# (steps 6-30, so start-up and the first steps are left out).
dist_dir="$root/build/bench-data/dist"
rm -rf "$dist_dir"
dist_common=(train --data "$root/build/bench-data/jsb" --preset jsb-small --steps 30 --batch 16 --length 256
             --eval-every 0 --checkpoint-every 0 --precision fp32 --workers 1 --dropout 0.1)
"$root/build/bin/bachgen" --threads 2 "${dist_common[@]}" --out "$dist_dir/one" >/dev/null 2>&1
"$root/build/bin/bachgen" "${dist_common[@]}" --nproc 2 --out "$dist_dir/two" >/dev/null 2>&1
"$root/build/bin/bachgen" "${dist_common[@]}" --nproc 2 --no-overlap --out "$dist_dir/two-after" >/dev/null 2>&1
echo
echo "### Data-parallel training: jsb-small, global batch 16 x 256, fp32, 2 cores"
echo
/usr/bin/python3 - "$dist_dir" <<'PY'
import json, sys
def stats(run):
    rows = [json.loads(l) for l in open(f"{sys.argv[1]}/{run}/metrics.jsonl") if '"loss"' in l]
    a, b = rows[4], rows[-1]
    step = (b["seconds"] - a["seconds"]) / (b["step"] - a["step"])
    wait = (b.get("allreduce_wait", 0) - a.get("allreduce_wait", 0)) / (b["step"] - a["step"])
    return step, wait
one, _ = stats("one")
two, wait = stats("two")
after, full = stats("two-after")
print("| setup | s/step | tokens/s | all-reduce wait/step | x 1 process |")
print("|---|---:|---:|---:|---:|")
print("| 1 process x 2 threads | %.3f | %.0f | - | 1.00 |" % (one, 4096 / one))
print("| 2 processes x 1 thread, buckets overlapped with backward | %.3f | %.0f | %.1f ms | %.2f |" % (two, 4096 / two, wait * 1e3, one / two))
print("| 2 processes x 1 thread, all-reduce after backward | %.3f | %.0f | %.1f ms | %.2f |" % (after, 4096 / after, full * 1e3, one / after))
print()
print("All-reduce of the gradients (626,560 parameters, 2.5 MB fp32) takes %.1f ms per step when it waits until after the backward pass;" % (full * 1e3))
print("overlapped, %.1f ms of it is left exposed (%.0f %% hidden behind the backward pass)." % (wait * 1e3, 100 * (1 - wait / max(full, 1e-9))))
PY
