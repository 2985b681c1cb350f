// JSB Chorales JSON loader.
#include "bachgen/data/jsb.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "bachgen/io/files.h"

namespace bachgen::data {

namespace {

constexpr size_t kMaxJsbBytes = size_t{64} << 20;

[[noreturn]] void fail(const std::string& source, const std::string& problem) {
  throw std::runtime_error(source + ": " + problem);
}

std::vector<music::ChoraleGrid> read_split(const nlohmann::json& root, const char* name,
                                           const std::string& source) {
  if (!root.contains(name)) fail(source, std::string("no \"") + name + "\" split");
  const nlohmann::json& pieces = root[name];
  if (!pieces.is_array()) fail(source, std::string("\"") + name + "\" is not a list of chorales");
  std::vector<music::ChoraleGrid> grids;
  grids.reserve(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) {
    const std::string where = std::string(name) + "[" + std::to_string(i) + "]";
    const nlohmann::json& piece = pieces[i];
    if (!piece.is_array()) fail(source, where + " is not a list of steps");
    music::ChoraleGrid grid;
    grid.pitches.reserve(piece.size());
    for (size_t t = 0; t < piece.size(); ++t) {
      const nlohmann::json& step = piece[t];
      if (!step.is_array() || step.size() != music::kVoices) {
        fail(source, where + " step " + std::to_string(t) + " is not 4 pitches");
      }
      music::GridStep out{};
      for (int v = 0; v < music::kVoices; ++v) {
        const nlohmann::json& x = step[static_cast<size_t>(v)];
        // Some copies of the file store pitches as floats (74.0), or silence as null.
        double value = -1;
        if (x.is_number()) {
          value = x.get<double>();
        } else if (!x.is_null()) {
          fail(source, where + " step " + std::to_string(t) + " voice " + std::to_string(v) +
                           " is not a number");
        }
        if (value != std::floor(value) || value < -1 || value > 127) {
          fail(source, where + " step " + std::to_string(t) + " voice " + std::to_string(v) +
                           ": " + x.dump() + " is not a MIDI pitch or -1");
        }
        out[static_cast<size_t>(v)] = static_cast<int8_t>(value);
      }
      grid.pitches.push_back(out);
    }
    grids.push_back(std::move(grid));
  }
  return grids;
}

}  // namespace

const std::vector<music::ChoraleGrid>& JsbCorpus::split(std::string_view name) const {
  if (name == "train") return train;
  if (name == "valid") return valid;
  if (name == "test") return test;
  throw std::invalid_argument("unknown split '" + std::string(name) + "' (train, valid or test)");
}

JsbCorpus parse_jsb(std::string_view text, const std::string& source) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    fail(source, "byte " + std::to_string(e.byte) + ": not valid JSON");
  } catch (const nlohmann::json::exception& e) {  // e.g. a number too large for a double
    fail(source, std::string("not valid JSON: ") + e.what());
  }
  if (!root.is_object()) fail(source, "expected an object with train, valid and test");
  JsbCorpus corpus;
  corpus.train = read_split(root, "train", source);
  corpus.valid = read_split(root, "valid", source);
  corpus.test = read_split(root, "test", source);
  return corpus;
}

JsbCorpus load_jsb(const std::string& path) {
  std::vector<uint8_t> bytes;
  try {
    bytes = io::read_file_bytes(path, kMaxJsbBytes);
  } catch (const std::exception& e) {
    fail(path, e.what());
  }
  return parse_jsb(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                   path);
}

}  // namespace bachgen::data
