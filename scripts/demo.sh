#!/usr/bin/env bash
# Runs setup (only what the program needs: scripts/setup.sh --program), then the main job:
# with the bundled models (models/README.md), compose a four-part chorale and harmonize a
# public-domain hymn tune (the Old Hundredth, Louis Bourgeois, 1551), each written to
# out/demo/ as MIDI, MusicXML and WAV; then prepare the corpora as token shards for training
# (out/data/). Prints what it wrote and how to listen.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh" --program

bachgen="$root/build/bin/bachgen"
out="$root/out/demo"
mkdir -p "$out"
echo
"$bachgen" --version
echo
echo "== A chorale composed by the bundled jsb-compose model (16 bars, D minor) =="
"$bachgen" generate --bars 16 --key "D minor" --seed 7 --out "$out/chorale"
echo
echo "== The Old Hundredth harmonized by the bundled jsb-harmonize model =="
old_hundredth="G4:2 G4:1 F#4:1 | E4:1 D4:1 G4:1 A4:1 | B4:4 | B4:2 B4:1 B4:1 | A4:1 G4:1 C5:1 B4:1 | A4:4 |
G4:2 A4:1 B4:1 | A4:1 G4:1 E4:1 F#4:1 | G4:4 | D5:2 B4:1 G4:1 | A4:1 C5:1 B4:1 A4:1 | G4:4 |"
echo "melody: $old_hundredth"
"$bachgen" harmonize --notes "$old_hundredth" --seed 3 --tempo 72 --out "$out/old-hundredth"
echo
echo "== Style statistics beside Bach's own chorales =="
"$bachgen" analyze "$out/chorale.mid" "$out/old-hundredth.mid"
echo
echo "== Token shards for training (out/data/) =="
"$bachgen" prepare --source jsb "$root/data/jsb-chorales/Jsb16thSeparated.json" \
  --vocab satb16 --out "$root/out/data/jsb-satb16"
"$bachgen" prepare --source midi-chorales "$root/data/bach-chorales-midi/satb" --vocab satb16-onset \
  --exclude-jsb "$root/data/jsb-chorales/Jsb16thSeparated.json" --out "$root/out/data/chorales-satb16-onset"
echo
cat <<MSG
Listen:  aplay $out/chorale.wav            (or any audio player; the .wav files are 44.1 kHz stereo)
         aplay $out/old-hundredth.wav
Read:    open $out/chorale.musicxml and $out/old-hundredth.musicxml in MuseScore
More:    build/bin/bachgen generate --help, harmonize --help, infill --help (README.md "Listen")
MSG
