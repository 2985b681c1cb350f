#!/usr/bin/env bash
# Reproduces the quality figures of docs/results.md#harmonization-and-composition: the bundled
# harmonizer's NLL of Bach's alto, tenor and bass given his soprano on the JSB test split (mean
# field and in time, nothing but the soprano known; QUALITY_MODEL names another); harmonizations of all 77 JSB test sopranos, each read as a melody (`convert test:I
# S.txt --voice S`, then `harmonize --notes` with its defaults and `--transpose auto`; voice-
# leading rules strict and off; QUALITY_HARMONIZE_FLAGS adds flags, e.g. "--rhythm sixteenths"); free
# compositions by the bundled chorale model (strict and off); `analyze` of each set beside
# Bach. Needs a built tree (scripts/setup.sh). Writes out/quality/. The NLL runs on one core
# while the harmonizations run on the other; the in-time NLL of jsb-harmonize alone takes about 50
# minutes on one core (AMD EPYC family 26 model 2), the harmonizations about 10.
# QUALITY_PIECES (default 77) and QUALITY_OFF_PIECES (default: the same) bound the pieces.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bachgen="$root/build/bin/bachgen"
out="$root/out/quality"
jsb="$root/data/jsb-chorales/Jsb16thSeparated.json"
pieces="${QUALITY_PIECES:-77}"
model="${QUALITY_MODEL:-jsb-harmonize}"
read -r -a harmonize_flags <<< "${QUALITY_HARMONIZE_FLAGS:-}"
off_pieces="${QUALITY_OFF_PIECES:-$pieces}"
rm -rf "$out"
mkdir -p "$out"/harmonized-strict "$out"/harmonized-off "$out"/composed-strict "$out"/composed-off "$out"/sopranos
"$bachgen" --version | sed -n '1,3p'

[ -d "$root/out/data/jsb-satb16" ] || "$bachgen" prepare --source jsb "$jsb" --vocab satb16 --out "$root/out/data/jsb-satb16"
"$bachgen" --threads 1 eval --model "$model" --in-time --data "$root/out/data/jsb-satb16" --split test \
  > "$out/nll.txt" &
nll_job=$!

echo "== Harmonizing the JSB test sopranos ($pieces strict, $off_pieces without the rules) =="
for rules in strict off; do
  start=$(date +%s)
  count=$pieces
  [ "$rules" = off ] && count=$off_pieces
  for ((i = 0; i < count; i++)); do
    soprano="$out/sopranos/test-$i.txt"
    [ -f "$soprano" ] || "$bachgen" convert "test:$i" "$soprano" --voice S > /dev/null
    "$bachgen" --threads 1 harmonize --model "$model" --notes "$(cat "$soprano")" --transpose auto --seed "$((i + 1))" --voice-leading "$rules" \
      "${harmonize_flags[@]}" --audio none --out "$out/harmonized-$rules/test-$i" > /dev/null
  done
  echo "voice leading $rules: $count harmonizations in $(( $(date +%s) - start )) s (one core)"
done

echo "== Our harmonizations against Bach's own lower voices (analyze --reference test:I) =="
for rules in strict off; do
  count=$pieces
  [ "$rules" = off ] && count=$off_pieces
  for ((i = 0; i < count; i++)); do
    "$bachgen" analyze --json --reference "test:$i" "$out/harmonized-$rules/test-$i.mid"
  done > "$out/agreement-$rules.jsonl.tmp"
  /usr/bin/python3 - "$out/agreement-$rules.jsonl.tmp" "$rules" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
decoder, at, cols = json.JSONDecoder(), 0, []
while at < len(text):
    while at < len(text) and text[at].isspace():
        at += 1
    if at >= len(text):
        break
    value, at = decoder.raw_decode(text, at)
    cols.append(value[0])
bass = sum(c["reference_bass_beats"] for c in cols)
same_bass = sum(round(c["reference_bass_percent"] * c["reference_bass_beats"] / 100) for c in cols)
chords = sum(c["reference_chord_beats"] for c in cols)
same_chord = sum(round(c["reference_chord_percent"] * c["reference_chord_beats"] / 100) for c in cols)
print(f"voice leading {sys.argv[2]}: bass as Bach's on {100 * same_bass / max(bass, 1):.1f} % of {bass} beats, "
      f"all voices' pitch classes as Bach's on {100 * same_chord / max(chords, 1):.1f} % of {chords}")
PY
done

echo "== NLL of Bach's ATB given his soprano (JSB test split) =="
wait "$nll_job"
cat "$out/nll.txt"

echo "== 20 free compositions (16 bars, one batch) =="
for rules in strict off; do
  "$bachgen" generate --bars 16 --count 20 --seed 1 --voice-leading "$rules" --audio none --out "$out/composed-$rules/chorale" | head -1
done

echo "== Style statistics (analyze) =="
echo "| set | 5ths/100 | 8ves/100 | cross/100 | range/100 | spread/100 | pc bits | odd16 % | scale % | tonic % | chords % | ATB/q | inner st | leaps % |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for set in harmonized-strict harmonized-off composed-strict composed-off; do
  "$bachgen" analyze --json "$out/$set"/*.mid > "$out/$set.json"
  /usr/bin/python3 - "$out/$set.json" "$set" <<'PY'
import json, sys
cols = json.load(open(sys.argv[1]))
total = [c for c in cols if c["name"] == "all inputs"][0]
bach = [c for c in cols if c["name"].startswith("Bach")]
def row(name, c):
    print(f'| {name} | {c["parallel_fifths_per_100_moves"]:.2f} | {c["parallel_octaves_per_100_moves"]:.2f} | {c["crossings_per_100_sonorities"]:.2f} | '
          f'{c["out_of_range_per_100_notes"]:.2f} | {c["wide_spacing_per_100_sonorities"]:.2f} | {c["pitch_class_entropy_bits"]:.2f} | '
          f'{c["odd_step_onsets_percent"]:.1f} | {c["scale_notes_percent"]:.1f} | {c["tonic_endings_percent"]:.1f} | {c["chord_beats_percent"]:.1f} | '
          f'{c["lower_onsets_per_quarter"]:.2f} | {c["inner_mean_interval_semitones"]:.2f} | {c["inner_leaps_percent"]:.1f} |')
row(sys.argv[2], total)
if bach and sys.argv[2] == "harmonized-strict":
    row("Bach (JSB test)", bach[0])
PY
done
