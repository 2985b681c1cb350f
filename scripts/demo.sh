#!/usr/bin/env bash
# Runs setup, then the main job. Today: read the 373 Bach chorale MIDI files and print a
# table of what they hold (voices, notes, ranges, meter, key, tempo, length), a detailed look at
# one chorale, and prepare both corpora as token shards for training (out/data/). Composition
# arrives with the generation work.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"

bachgen="$root/build/bin/bachgen"
corpus="$root/data/bach-chorales-midi/satb"
echo
"$bachgen" --version
echo
echo "== The chorale corpus: $corpus =="
"$bachgen" inspect --table "$corpus"
echo
echo "== One chorale in detail =="
"$bachgen" inspect "$corpus/000206b_.mid"
echo
echo "== Token shards for training (out/data/) =="
"$bachgen" prepare --source jsb "$root/data/jsb-chorales/Jsb16thSeparated.json" \
  --vocab satb16 --out "$root/out/data/jsb-satb16"
"$bachgen" prepare --source midi-chorales "$corpus" --vocab satb16-onset \
  --exclude-jsb "$root/data/jsb-chorales/Jsb16thSeparated.json" --out "$root/out/data/chorales-satb16-onset"
