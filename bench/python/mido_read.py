#!/usr/bin/python3
"""The peer of bench/bench_midi_read.cpp: reads every .mid file of a folder with mido
(MidiFile + note pairing per track, channel and pitch, first in first out), many rounds, in
process. Prints one JSON line. Debian python3-mido; run with /usr/bin/python3.

    mido_read.py DIR [--min-seconds S] [--min-rounds N]
"""
import argparse
import collections
import json
import os
import time

import mido


def notes_of(mid):
    count = 0
    for track in mid.tracks:
        tick = 0
        sounding = collections.defaultdict(collections.deque)
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                sounding[(msg.channel, msg.note)].append((tick, msg.velocity))
            elif msg.type in ("note_on", "note_off"):
                queue = sounding[(msg.channel, msg.note)]
                if queue:
                    queue.popleft()
                    count += 1
        count += sum(len(q) for q in sounding.values())
    return count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--min-seconds", type=float, default=3.0)
    parser.add_argument("--min-rounds", type=int, default=1)
    args = parser.parse_args()
    paths = sorted(os.path.join(args.dir, n) for n in os.listdir(args.dir) if n.endswith(".mid"))
    rounds, elapsed, notes = 0, 0.0, 0
    start = time.perf_counter()
    while rounds < args.min_rounds or elapsed < args.min_seconds:
        notes = sum(notes_of(mido.MidiFile(p)) for p in paths)
        rounds += 1
        elapsed = time.perf_counter() - start
    size = sum(os.path.getsize(p) for p in paths)
    print(json.dumps({"tool": "mido " + mido.__version__, "files": len(paths), "rounds": rounds,
                      "seconds": round(elapsed, 6), "notes_per_round": notes,
                      "files_per_second": round(len(paths) * rounds / elapsed, 1),
                      "mb_per_second": round(size * rounds / elapsed / 1e6, 3)}))


if __name__ == "__main__":
    main()
