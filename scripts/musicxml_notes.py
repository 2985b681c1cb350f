"""The notes of a score-partwise MusicXML file, for the spelling figure (scripts/spelling_figure.py).

Reads .musicxml/.xml (and .mxl archives) with the standard library only: one record per
sounding note (ties joined): part index, onset and duration in quarter notes (Fractions from
the start of the document), MIDI pitch, and the written spelling (step letter, alter).
"""
import xml.etree.ElementTree as ET
import zipfile
from fractions import Fraction

STEP_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def _root(path):
    if path.lower().endswith(".mxl"):
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if not n.startswith("META-INF") and n.lower().endswith((".xml", ".musicxml"))]
            if "META-INF/container.xml" in z.namelist():
                c = ET.fromstring(z.read("META-INF/container.xml"))
                for rf in c.iter():
                    if rf.tag.endswith("rootfile") and rf.get("full-path"):
                        names = [rf.get("full-path")]
                        break
            return ET.fromstring(z.read(names[0]))
    with open(path, "rb") as f:
        data = f.read()
    return ET.fromstring(data)


def read_notes(path):
    """[(part, onset, duration, midi, step, alter)] sorted by onset, part, midi."""
    root = _root(path)
    notes = []
    for part_index, part in enumerate(root.findall("part")):
        divisions = 1
        time = Fraction(0)
        open_ties = {}  # (voice, midi) -> index in notes of the note a tie continues
        for measure in part.findall("measure"):
            last_onset = time
            for el in measure:
                if el.tag == "attributes":
                    d = el.find("divisions")
                    if d is not None:
                        divisions = int(d.text)
                elif el.tag == "backup":
                    time -= Fraction(int(el.find("duration").text), divisions)
                elif el.tag == "forward":
                    time += Fraction(int(el.find("duration").text), divisions)
                elif el.tag == "note":
                    if el.find("grace") is not None:
                        continue
                    dur_el = el.find("duration")
                    dur = Fraction(int(dur_el.text), divisions) if dur_el is not None else Fraction(0)
                    chord = el.find("chord") is not None
                    onset = last_onset if chord else time
                    if not chord:
                        last_onset = time
                        time += dur
                    pitch = el.find("pitch")
                    if pitch is None:
                        continue
                    step = pitch.find("step").text.strip()
                    alter_el = pitch.find("alter")
                    alter = int(round(float(alter_el.text))) if alter_el is not None else 0
                    octave = int(pitch.find("octave").text)
                    midi = 12 * (octave + 1) + STEP_PC[step] + alter
                    voice_el = el.find("voice")
                    voice = voice_el.text.strip() if voice_el is not None else "1"
                    ties = [t.get("type") for t in el.findall("tie")]
                    key = (voice, midi)
                    if "stop" in ties and key in open_ties:
                        i = open_ties.pop(key)
                        p, o, d, m, s, a = notes[i]
                        notes[i] = (p, o, d + dur, m, s, a)
                        if "start" in ties:
                            open_ties[key] = i
                        continue
                    notes.append((part_index, onset, dur, midi, step, alter))
                    if "start" in ties:
                        open_ties[key] = len(notes) - 1
    notes.sort(key=lambda n: (n[1], n[0], n[3]))
    return notes
