// What infill redraws, as the command line and the studio write it: a bar range and a set of
// voices. Torch-free.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>

namespace bachgen::generate {

// "3-5" -> {3, 5}; "4" -> {4, 4}; "all" -> {1, INT64_MAX}. Throws std::invalid_argument.
std::pair<int64_t, int64_t> parse_bar_range(const std::string& text);
// "ATB" -> {false, true, true, true}. Throws std::invalid_argument.
std::array<bool, 4> parse_voices(const std::string& text);

}  // namespace bachgen::generate
