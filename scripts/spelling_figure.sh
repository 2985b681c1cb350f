#!/usr/bin/env bash
# The spelling figure of issue 20 side by side (docs/results.md#pitch-spelling): each Greentree
# MIDI chorale (data/bach-chorales-midi/satb/NAME.mid) that has the transcriber's MusicXML
# (data/bach-chorales-musicxml/NAME.xml, capital B) converted to MusicXML by `bachgen convert`
# and by MuseScore 3's own MIDI import, and both compared with the transcriber's spelling.
# Needs a built tree and mscore3 (scripts/setup.sh). Writes out/spelling/. About 5 minutes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bachgen="$root/build/bin/bachgen"
midi="$root/data/bach-chorales-midi/satb"
xml="$root/data/bach-chorales-musicxml"
out="$root/out/spelling"
rm -rf "$out"
mkdir -p "$out/bachgen" "$out/musescore3"
jobs="$out/musescore3-jobs.json"
echo "[" > "$jobs"
first=1
for ref in "$xml"/*.xml; do
  name="$(basename "$ref" .xml)"
  mid="$midi/${name:0:6}b${name:7}.mid"
  [ -f "$mid" ] || continue
  "$bachgen" convert "$mid" "$out/bachgen/$name.musicxml" > /dev/null
  [ $first = 1 ] || echo "," >> "$jobs"
  first=0
  printf '{"in": "%s", "out": "%s"}' "$mid" "$out/musescore3/$name.musicxml" >> "$jobs"
done
echo "]" >> "$jobs"
QT_QPA_PLATFORM=offscreen timeout 1800 mscore3 -j "$jobs" > "$out/musescore3.log" 2>&1 || echo "mscore3 exited with $? (its log: $out/musescore3.log)"
/usr/bin/python3 "$root/scripts/spelling_figure.py" "$xml" "bachgen convert=$out/bachgen" "MuseScore 3 import=$out/musescore3"
