// Chorale file names, the BWV split and the content matcher.
#include "bachgen/data/chorale_corpus.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace bachgen::data {

const char* split_name(Split split) {
  switch (split) {
    case Split::kTrain: return "train";
    case Split::kValid: return "valid";
    case Split::kTest: return "test";
  }
  return "?";
}

Split parse_split(std::string_view name) {
  for (Split s : kSplits) {
    if (name == split_name(s)) return s;
  }
  throw std::invalid_argument("unknown split '" + std::string(name) + "' (train, valid or test)");
}

std::optional<ChoraleFileName> parse_chorale_file_name(std::string_view name) {
  const size_t slash = name.rfind('/');
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  const size_t dot = name.rfind('.');
  if (dot != std::string_view::npos) name = name.substr(0, dot);
  if (name.size() < 7) return std::nullopt;
  for (size_t i = 0; i < 6; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return std::nullopt;
  }
  ChoraleFileName out;
  out.bwv = std::stoi(std::string(name.substr(0, 4)));
  out.movement = std::stoi(std::string(name.substr(4, 2)));
  out.variant = std::string(name.substr(6));
  return out;
}

Split split_of_bwv(int bwv) {
  const std::string key = "BWV " + std::to_string(bwv);
  uint32_t h = 2166136261u;
  for (char c : key) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  const uint32_t bucket = h % 100;
  return bucket < 80 ? Split::kTrain : bucket < 90 ? Split::kValid : Split::kTest;
}

namespace {

std::vector<int8_t> intervals_of_voice(const music::ChoraleGrid& grid, int voice) {
  std::vector<int8_t> intervals;
  int last = music::kSilent;
  for (const music::GridStep& step : grid.pitches) {
    const int p = step[static_cast<size_t>(voice)];
    if (p == music::kSilent || p == last) continue;
    if (last != music::kSilent) intervals.push_back(static_cast<int8_t>(p - last));
    last = p;
  }
  return intervals;
}

}  // namespace

ChoraleSignature signature_of(const music::ChoraleGrid& grid) {
  return {intervals_of_voice(grid, 0), intervals_of_voice(grid, 3)};
}

double sequence_similarity(const std::vector<int8_t>& a, const std::vector<int8_t>& b) {
  const size_t n = a.size(), m = b.size();
  if (n == 0 && m == 0) return 1.0;
  std::vector<size_t> row(m + 1);
  for (size_t j = 0; j <= m; ++j) row[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= m; ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return 1.0 - static_cast<double>(row[m]) / static_cast<double>(std::max(n, m));
}

std::vector<ChoraleMatch> match_chorales(const std::vector<music::ChoraleGrid>& midi,
                                         const JsbCorpus& jsb, const MatchThresholds& t) {
  struct Candidate {
    Split split;
    size_t index;
    ChoraleSignature signature;
  };
  std::vector<Candidate> candidates;
  for (Split s : kSplits) {
    const auto& pieces = jsb.split(split_name(s));
    for (size_t i = 0; i < pieces.size(); ++i) candidates.push_back({s, i, signature_of(pieces[i])});
  }
  std::vector<ChoraleMatch> matches;
  for (size_t m = 0; m < midi.size(); ++m) {
    const ChoraleSignature sig = signature_of(midi[m]);
    const size_t first = matches.size();
    for (const Candidate& c : candidates) {
      const double shorter = static_cast<double>(std::min(sig.soprano.size(), c.signature.soprano.size()));
      const double longer = static_cast<double>(std::max(sig.soprano.size(), c.signature.soprano.size()));
      if (longer > 0 && shorter / longer < 0.75) continue;
      const double soprano = sequence_similarity(sig.soprano, c.signature.soprano);
      if (soprano < t.soprano) continue;
      const double bass = sequence_similarity(sig.bass, c.signature.bass);
      if (bass < t.bass) continue;
      matches.push_back({m, c.split, c.index, soprano, bass});
    }
    std::sort(matches.begin() + static_cast<std::ptrdiff_t>(first), matches.end(),
              [](const ChoraleMatch& a, const ChoraleMatch& b) {
                return a.soprano + a.bass > b.soprano + b.bass;
              });
  }
  return matches;
}

}  // namespace bachgen::data
