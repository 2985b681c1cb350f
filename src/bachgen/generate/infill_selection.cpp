// Bar ranges and voice sets of infill.
#include "bachgen/generate/infill_selection.h"

#include <cctype>
#include <limits>
#include <stdexcept>

namespace bachgen::generate {

std::pair<int64_t, int64_t> parse_bar_range(const std::string& text) {
  if (text == "all") return {1, std::numeric_limits<int64_t>::max()};
  const auto number = [&text](const std::string& s) {
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (s.empty() || used != s.size() || v < 1) throw std::invalid_argument("--bars '" + text + "': write A-B or A, bars counted from 1");
    return static_cast<int64_t>(v);
  };
  const size_t dash = text.find('-');
  if (dash == std::string::npos) {
    const int64_t a = number(text);
    return {a, a};
  }
  const int64_t a = number(text.substr(0, dash)), b = number(text.substr(dash + 1));
  if (b < a) throw std::invalid_argument("--bars '" + text + "': the last bar comes before the first");
  return {a, b};
}

std::array<bool, 4> parse_voices(const std::string& text) {
  std::array<bool, 4> voices{};
  static const std::string names = "SATB";
  for (char ch : text) {
    const size_t v = names.find(static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
    if (v == std::string::npos) throw std::invalid_argument("--voices '" + text + "': use the letters S, A, T and B");
    if (voices[v]) throw std::invalid_argument("--voices '" + text + "': " + std::string(1, names[v]) + " appears twice");
    voices[v] = true;
  }
  if (text.empty()) throw std::invalid_argument("--voices: name at least one of S, A, T, B");
  return voices;
}

}  // namespace bachgen::generate
