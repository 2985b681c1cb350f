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

JsbRef parse_jsb_ref(const std::string& text, const std::string& default_file, bool index_required) {
  JsbRef ref;
  std::string rest = text;
  const size_t json_at = text.find(".json:");
  if (json_at != std::string::npos) {
    ref.file = text.substr(0, json_at + 5);
    rest = text.substr(json_at + 6);
  } else {
    ref.file = default_file;
  }
  const size_t colon = rest.find(':');
  ref.split = rest.substr(0, colon);
  const std::string form = index_required ? "[FILE.json:]SPLIT:INDEX" : "[FILE.json:]SPLIT[:INDEX]";
  if (ref.split != "train" && ref.split != "valid" && ref.split != "test") {
    throw std::invalid_argument("'" + text + "': no split '" + ref.split + "' (train, valid or test; written " + form + ")");
  }
  if (colon == std::string::npos) {
    if (index_required) throw std::invalid_argument("'" + text + "': no piece index (written " + form + ")");
    return ref;
  }
  const std::string digits = rest.substr(colon + 1);
  const bool whole = !digits.empty() && digits.size() <= 9 &&
                     digits.find_first_not_of("0123456789") == std::string::npos;
  if (!whole) throw std::invalid_argument("'" + text + "': the piece index '" + digits + "' is not a whole number (written " + form + ")");
  ref.index = std::stoll(digits);
  return ref;
}

bool looks_like_jsb_ref(const std::string& text) {
  if (text.find(".json:") != std::string::npos) return true;
  const std::string split = text.substr(0, text.find(':'));
  return text.find(':') != std::string::npos && (split == "train" || split == "valid" || split == "test");
}

music::ChoraleGrid load_jsb_piece(const JsbRef& ref) {
  const JsbCorpus corpus = load_jsb(ref.file);
  const std::vector<music::ChoraleGrid>& split = corpus.split(ref.split);
  if (ref.index < 0 || static_cast<size_t>(ref.index) >= split.size()) {
    throw std::runtime_error(ref.split + ":" + std::to_string(ref.index) + ": no piece " + std::to_string(ref.index) + " in " + ref.split +
                             (split.empty() ? " (it is empty)" : " (0-" + std::to_string(split.size() - 1) + ")"));
  }
  return split[static_cast<size_t>(ref.index)];
}

}  // namespace bachgen::data
