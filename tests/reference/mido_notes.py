#!/usr/bin/python3
"""Peer reference for the MIDI reader: reads every .mid file in a folder with mido and prints
the notes (paired the way bachgen documents: per track, channel and pitch, first in first out,
note-on velocity 0 is a note-off, unended notes end at the track's end), tempos and time
signatures in the canonical text form that tests/test_midi_corpus.cpp also produces.

Usage: mido_notes.py DIR > dump.txt   (Debian python3-mido, run with /usr/bin/python3)
"""
import collections
import os
import sys

import mido


def dump_file(path, out):
    mid = mido.MidiFile(path)
    lines = []
    notes = []
    for ti, track in enumerate(mid.tracks):
        tick = 0
        sounding = collections.defaultdict(collections.deque)  # (channel, pitch) -> [(start, vel)]
        emitted = []
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                lines.append("tempo %d %d %d" % (ti, tick, msg.tempo))
            elif msg.type == "time_signature":
                lines.append("timesig %d %d %d %d" % (ti, tick, msg.numerator, msg.denominator))
            elif msg.type == "note_on" and msg.velocity > 0:
                sounding[(msg.channel, msg.note)].append((tick, msg.velocity))
            elif msg.type in ("note_on", "note_off"):
                queue = sounding[(msg.channel, msg.note)]
                if queue:
                    start, velocity = queue.popleft()
                    emitted.append((start, ti, msg.channel, msg.note, tick, velocity))
        for (channel, pitch) in sorted(sounding):  # unended: end with the track
            for start, velocity in sounding[(channel, pitch)]:
                emitted.append((start, ti, channel, pitch, max(tick, start), velocity))
        notes.extend(emitted)
    notes.sort(key=lambda n: n[:5])  # stable: ties keep pairing order, as in C++
    for start, ti, channel, pitch, end, velocity in notes:
        lines.append("note %d %d %d %d %d %d" % (ti, channel, pitch, start, end, velocity))
    out.write("file %s\n" % os.path.basename(path))
    for line in lines:
        out.write(line + "\n")


def main():
    folder = sys.argv[1]
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(".mid"))
    for name in names:
        dump_file(os.path.join(folder, name), sys.stdout)


if __name__ == "__main__":
    main()
