#!/usr/bin/env bash
# Runs setup, then the main job. Today: read the 373 Bach chorale MIDI files and print a
# table of what they hold (voices, notes, ranges, meter, key, tempo, length), plus a detailed
# look at one chorale. Composition arrives with the generation work.
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
