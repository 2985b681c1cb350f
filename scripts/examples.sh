#!/usr/bin/env bash
# Writes docs/examples/ again (docs/examples/README.md): the commands of README.md's "Listen"
# section with the bundled models, a second composition, and PDFs of the two compositions and
# of the Old Hundredth engraved by MuseScore 3 (`mscore3`, installed by scripts/setup.sh).
# Needs a built tree. Under a minute on 2 cores.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bachgen="$root/build/bin/bachgen"
ex="$root/docs/examples"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$bachgen" --version | sed -n '1p'

"$bachgen" generate --bars 16 --key "D minor" --seed 7 --audio none --out "$tmp/chorale"
"$bachgen" generate --bars 16 --seed 1 --audio none --out "$tmp/chorale-2"
"$bachgen" harmonize --seed 3 --tempo 72 --audio none --out "$tmp/old-hundredth" --notes \
  "G4:2 G4:1 F#4:1 | E4:1 D4:1 G4:1 A4:1 | B4:4 | B4:2 B4:1 B4:1 | A4:1 G4:1 C5:1 B4:1 | A4:4 |
   G4:2 A4:1 B4:1 | A4:1 G4:1 E4:1 F#4:1 | G4:4 | D5:2 B4:1 G4:1 | A4:1 C5:1 B4:1 A4:1 | G4:4 |"
"$bachgen" infill --input test:3 --bars 5-8 --voices AT --seed 2 --audio none --out "$tmp/infill"
"$bachgen" generate --model performance --primer "$root/data/bach-chorales-midi/satb/000206b_.mid" --steps 600 \
  --audio none --out "$tmp/continued"
for name in chorale chorale-2 old-hundredth; do
  QT_QPA_PLATFORM=offscreen mscore3 -o "$tmp/$name.pdf" "$tmp/$name.musicxml" > "$tmp/$name.log" 2>&1
done
for f in chorale.mid chorale.musicxml chorale.pdf chorale-2.mid chorale-2.musicxml chorale-2.pdf \
         old-hundredth.mid old-hundredth.musicxml old-hundredth.pdf infill.mid infill.musicxml continued.mid; do
  cp "$tmp/$f" "$ex/$f"
done
echo "wrote docs/examples/"
