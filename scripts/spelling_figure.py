"""The spelling figure of issue 20 (docs/results.md#pitch-spelling): for each Greentree chorale
with both files (satb/NAME.mid and NAME.xml, capital B), the share of the transcriber's notes
that a MusicXML file made from the MIDI file spells as the transcriber did. Notes are matched
by onset (in quarters from the first note) and MIDI pitch; a reference note with no match
counts as not spelled alike.

    /usr/bin/python3 scripts/spelling_figure.py REFERENCE_DIR NAME=DIR [NAME=DIR ...]

Each DIR holds NAME.musicxml for the chorales it converted (ours: `bachgen convert`; MuseScore
3: `mscore3 -o`). Prints one line per DIR, the same files for all: a file missing from any DIR
is left out of every figure and counted.
"""
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from musicxml_notes import read_notes  # noqa: E402


def keyed(notes):
    if not notes:
        return collections.defaultdict(list)
    first = min(n[1] for n in notes)
    out = collections.defaultdict(list)
    for part, onset, dur, midi, step, alter in notes:
        out[(onset - first, midi)].append((step, alter))
    return out


def main():
    reference_dir, runs = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
    names = sorted(n[:-4] for n in os.listdir(reference_dir) if n.endswith(".xml"))
    usable, missing = [], collections.Counter()
    for name in names:
        have = [os.path.exists(os.path.join(d, name + ".musicxml")) for _, d in runs]
        if all(have):
            usable.append(name)
        elif any(have):
            for (label, _), h in zip(runs, have):
                if not h:
                    missing[label] += 1
    flat_leading = collections.Counter()
    totals = {label: [0, 0] for label, _ in runs}
    for name in usable:
        ref = read_notes(os.path.join(reference_dir, name + ".xml"))
        ref_keyed = keyed(ref)
        for label, d in runs:
            ours = keyed(read_notes(os.path.join(d, name + ".musicxml")))
            for k, spellings in ref_keyed.items():
                theirs = collections.Counter(ours.get(k, []))
                for sp in spellings:
                    totals[label][1] += 1
                    if theirs[sp] > 0:
                        theirs[sp] -= 1
                        totals[label][0] += 1
    print(f"{len(usable)} chorales with every file" + (f"; left out, missing: {dict(missing)}" if missing else ""))
    for label, (same, total) in totals.items():
        print(f"{label}: {same} of {total} notes spelled as the transcriber did ({100.0 * same / max(total, 1):.2f} %)")


if __name__ == "__main__":
    main()
