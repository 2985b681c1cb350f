#!/usr/bin/env bash
# Reproduces the composer figures of issue 18 for one model (docs/results.md, models/README.md):
# JSB test NLL per token over whole pieces with nothing known (the honest figure) and with each
# piece's meter, length and key known; 12 default compositions (`generate --bars 16 --seed S`,
# S = 1..12) and 12 with `--key "D minor"` through `analyze` beside Bach; their bars; how many
# are analysed as D minor; and the time of one 16-bar composition from process start.
#   scripts/composer_card.sh [MODEL] [extra generate flags...]   (MODEL default: jsb-compose, the bundled composer)
# Needs a built tree. Writes out/card/. A few minutes on 2 cores.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bachgen="$root/build/bin/bachgen"
model="${1:-jsb-compose}"
shift || true
out="$root/out/card"
data="$root/out/data/jsb-meters"
rm -rf "$out"
mkdir -p "$out/default" "$out/dminor"
"$bachgen" --version | sed -n '1,3p'
[ -f "$data/manifest.json" ] || "$bachgen" prepare --source jsb "$root/data/jsb-chorales/Jsb16thSeparated.json" \
  --meters "$root/data/bach-chorales-musicxml" --out "$data" > /dev/null

echo "== NLL per token, JSB test, whole pieces (window 4096) =="
"$bachgen" eval --model "$model" --data "$data" --split test --conditions none
"$bachgen" eval --model "$model" --data "$data" --split test --conditions known

echo "== 12 compositions, default settings, and 12 with --key \"D minor\" =="
for s in $(seq 1 12); do
  "$bachgen" generate --model "$model" --bars 16 --seed "$s" --audio none "$@" --out "$out/default/chorale-$s" > "$out/default/chorale-$s.log"
  "$bachgen" generate --model "$model" --bars 16 --seed "$s" --key "D minor" --audio none "$@" --out "$out/dminor/chorale-$s" > "$out/dminor/chorale-$s.log"
done
TIMEFORMAT='%R'
seconds=$( { time "$bachgen" generate --model "$model" --bars 16 --seed 1 --audio none "$@" --out "$out/timed" > /dev/null; } 2>&1 )
echo "one 16-bar composition from process start: $seconds s"

for set in default dminor; do
  "$bachgen" analyze --json "$out/$set"/*.mid > "$out/$set.json"
  "$bachgen" inspect --json "$out/$set"/*.mid > "$out/$set-inspect.jsonl"
  /usr/bin/python3 - "$out/$set.json" "$out/$set-inspect.jsonl" "$set" <<'PY'
import json, sys
cols = json.load(open(sys.argv[1]))
pieces = [c for c in cols if c["name"] not in ("all inputs",) and not c["name"].startswith("Bach")]
total = [c for c in cols if c["name"] == "all inputs"][0]
bach = [c for c in cols if c["name"].startswith("Bach")][0]
bars = []
for line in open(sys.argv[2]):
    j = json.loads(line)
    tpq = j["division"]["ticks_per_quarter"]
    ts = j["time_signatures"][0] if j["time_signatures"] else {"numerator": 4, "denominator": 4}
    bars.append(j["end_tick"] / tpq / (ts["numerator"] * 4 / ts["denominator"]))
def row(name, c):
    print(f'| {name} | {c["odd_step_onsets_percent"]:.1f} | {c["scale_notes_percent"]:.1f} | {c["tonic_endings_percent"]:.1f} | '
          f'{c["chord_beats_percent"]:.1f} | {c["lower_onsets_per_quarter"]:.2f} | {c["parallel_fifths"]} | {c["parallel_octaves"]} | '
          f'{c["inner_mean_interval_semitones"]:.2f} | {c["inner_leaps_percent"]:.1f} |')
print(f"\n{sys.argv[3]}: keys " + ", ".join(sorted(set(p.get("key", "?") for p in pieces))))
print(f"  analysed as D minor: {sum(1 for p in pieces if p.get('key') == 'D minor')} of {len(pieces)}")
print(f"  bars: {', '.join(f'{b:g}' for b in bars)}")
print("| set | odd16 % | scale % | tonic % | chords % | ATB/q | par. 5ths | par. 8ves | inner st | leaps % |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
row(sys.argv[3], total)
row("Bach (JSB test)", bach)
PY
done
