// Four-part MIDI read into a Chorale: four of its voices (the tracks that hold notes, in track
// order: the first four, or those `voices` names) onto the 16th grid with their onsets; the
// first time signature, tempo and key signature (with its mode); the silence in front of the
// first note read as a pickup. What `bachgen convert` reads of a MIDI file. Torch-free;
// docs/generation.md#convert.
#pragma once

#include <string>
#include <vector>

#include "bachgen/music/chorale.h"
#include "bachgen/music/score.h"

namespace bachgen::music {

// `voices`: four voice numbers from 1 (S, A, T, B), or empty for the first four. Throws
// std::runtime_error "NAME: PROBLEM" (fewer than four voices, a voice that is not there, a
// meter the grid cannot hold, a resolution that does not divide into 16ths, no notes).
Chorale chorale_from_score(const Score& score, const std::string& name, const std::vector<int>& voices = {});
Chorale read_chorale_midi(const std::string& path, const std::vector<int>& voices = {});

}  // namespace bachgen::music
