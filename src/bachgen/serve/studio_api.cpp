// Parsing and checking the studio's JSON requests.
#include "bachgen/serve/studio_api.h"

#include "bachgen/generate/harmonizer.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "bachgen/generate/infill_selection.h"
#include "bachgen/music/key.h"
#include "bachgen/render/musicxml.h"
#include "bachgen/io/utf8.h"
#include "bachgen/serve/result_store.h"

namespace bachgen::serve {

namespace {

using nlohmann::json;

constexpr double kMaxSeed = 9007199254740991.0;  // 2^53 - 1

// Before the JSON parser sees a body (it recurses once per level): no level deeper than
// kMaxJsonDepth, no byte that is not UTF-8, no NUL, each named by its byte offset.
void check_json_shape(const std::string& body) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(body[i]);
    if (c == 0) throw RequestError("", "the body holds a NUL byte at offset " + std::to_string(i));
    if (c >= 0x80) {
      const size_t n = io::utf8_sequence_length(body, i);
      if (n == 0) throw RequestError("", "the body is not UTF-8: byte " + std::to_string(i) + " does not start a character");
      i += n - 1;
      continue;
    }
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        throw RequestError("", "the body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels (byte " + std::to_string(i) + ")");
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

// One request object: typed reads with ranges, and a check that no unknown field came along.
class Fields {
 public:
  explicit Fields(const std::string& body) {
    check_json_shape(body);
    try {
      object_ = json::parse(body);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e400
      throw RequestError("", std::string("the body is not valid JSON: ") + e.what());
    }
    if (!object_.is_object()) throw RequestError("", "the body must be a JSON object");
  }
  Fields(const json& object, std::string prefix) : object_(object), prefix_(std::move(prefix)) {
    if (!object_.is_object()) throw RequestError(strip(prefix_), "must be an object");
  }

  bool has(const std::string& name) {
    known_.insert(name);
    return object_.contains(name) && !object_.at(name).is_null();
  }
  const json& raw(const std::string& name) { return object_.at(name); }
  std::string path(const std::string& name) const { return prefix_ + name; }

  double number(const std::string& name, double fallback, double lowest, double highest) {
    if (!has(name)) return fallback;
    const json& v = object_.at(name);
    if (!v.is_number()) throw RequestError(path(name), "must be a number");
    const double x = v.get<double>();
    if (!std::isfinite(x) || x < lowest || x > highest) {
      throw RequestError(path(name), "must be between " + format(lowest) + " and " + format(highest) + ", not " + format(x));
    }
    return x;
  }
  int64_t integer(const std::string& name, int64_t fallback, int64_t lowest, int64_t highest) {
    if (!has(name)) return fallback;
    const json& v = object_.at(name);
    if (!v.is_number_integer() && !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>())) {
      throw RequestError(path(name), "must be a whole number");
    }
    const double x = v.get<double>();
    if (x < static_cast<double>(lowest) || x > static_cast<double>(highest)) {
      throw RequestError(path(name), "must be between " + std::to_string(lowest) + " and " + std::to_string(highest) + ", not " + format(x));
    }
    return static_cast<int64_t>(x);
  }
  std::string text(const std::string& name, const std::string& fallback, size_t max_length) {
    if (!has(name)) return fallback;
    const json& v = object_.at(name);
    if (!v.is_string()) throw RequestError(path(name), "must be a string");
    std::string s = v.get<std::string>();
    if (s.size() > max_length) {
      throw RequestError(path(name), "is " + std::to_string(s.size()) + " characters long; at most " + std::to_string(max_length) + " are taken");
    }
    return s;
  }
  void finish() const {
    for (const auto& item : object_.items()) {
      if (known_.count(item.key()) == 0) throw RequestError(path(item.key()), "is not a field of this request");
    }
  }

 private:
  static std::string strip(const std::string& prefix) { return prefix.empty() ? prefix : prefix.substr(0, prefix.size() - 1); }
  static std::string format(double x) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", x);
    return buffer;
  }

  json object_;
  std::string prefix_;
  std::set<std::string> known_;
};

SamplingFields read_sampling(Fields& f, double default_temperature = 1.0) {
  SamplingFields s;
  s.temperature = default_temperature;
  s.temperature = f.number("temperature", s.temperature, 0, 5);
  s.top_k = static_cast<int>(f.integer("top_k", s.top_k, 0, 1000));
  s.top_p = f.number("top_p", s.top_p, 0, 1);
  if (s.top_p <= 0) throw RequestError("top_p", "must be above 0 (1 keeps every token)");
  s.seed = static_cast<uint64_t>(f.integer("seed", static_cast<int64_t>(s.seed), 0, static_cast<int64_t>(kMaxSeed)));
  const std::string rules = f.text("voice_leading", music::voice_leading_name(s.voice_leading), 16);
  try {
    s.voice_leading = music::parse_voice_leading(rules);
  } catch (const std::invalid_argument&) {
    throw RequestError("voice_leading", "must be \"strict\" or \"off\", not \"" + rules + "\"");
  }
  return s;
}

SamplerFields read_sampler(Fields& f) {
  SamplerFields s;
  s.sampler = f.text("sampler", "", 16);
  if (!s.sampler.empty() && s.sampler != "ancestral" && s.sampler != "gibbs") {
    throw RequestError("sampler", "must be \"ancestral\" or \"gibbs\", not \"" + s.sampler + "\"");
  }
  s.iterations = f.integer("iterations", 0, 0, 4096);
  s.final_temperature = f.number("final_temperature", -1, 0, 5);
  s.hold_temperature = f.number("hold_temperature", -1, 0, 5);
  s.rhythm = f.text("rhythm", "", 16);
  if (!s.rhythm.empty() && s.rhythm != "eighths" && s.rhythm != "sixteenths") {
    throw RequestError("rhythm", "must be \"eighths\" or \"sixteenths\", not \"" + s.rhythm + "\"");
  }
  s.cadence = f.text("cadence", "", 16);
  if (!s.cadence.empty() && s.cadence != "tonic" && s.cadence != "free") {
    throw RequestError("cadence", "must be \"tonic\" or \"free\", not \"" + s.cadence + "\"");
  }
  s.candidates = f.integer("candidates", 0, 0, 8);
  s.critic = f.text("critic", "", 16);
  if (!s.critic.empty() && s.critic != "consensus" && s.critic != "model") {
    throw RequestError("critic", "must be \"consensus\" or \"model\", not \"" + s.critic + "\"");
  }
  return s;
}

// {"name": "tune.mid", "data": BASE64}
UploadedFile read_upload(Fields& f, const std::string& name, const StudioLimits& limits, bool musicxml_allowed) {
  Fields file(f.raw(name), name + ".");
  UploadedFile upload;
  if (!file.has("name")) throw RequestError(name + ".name", "is required (the file's name, e.g. tune.mid)");
  upload.name = file.text("name", "", 255);
  if (upload.name.find('/') != std::string::npos || upload.name.find('\\') != std::string::npos) {
    throw RequestError(name + ".name", "must be a file name without folders");
  }
  std::string lower = upload.name;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto ends_with = [&lower](const std::string& suffix) {
    return lower.size() > suffix.size() && lower.compare(lower.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(".mid") || ends_with(".midi")) {
    upload.format = "mid";
  } else if (musicxml_allowed && (ends_with(".musicxml") || ends_with(".xml"))) {
    upload.format = "musicxml";
  } else if (musicxml_allowed && ends_with(".mxl")) {
    upload.format = "mxl";
  } else {
    throw RequestError(name + ".name", musicxml_allowed ? "must end in .mid, .midi, .musicxml, .xml or .mxl" : "must end in .mid or .midi");
  }
  if (!file.has("data")) throw RequestError(name + ".data", "is required (the file's bytes in base64)");
  const size_t max_encoded = (limits.max_upload_bytes + 2) / 3 * 4;
  const std::string encoded = file.text("data", "", max_encoded + 4);
  upload.bytes = decode_base64(encoded, name + ".data");
  if (upload.bytes.empty()) throw RequestError(name + ".data", "the file is empty");
  if (upload.bytes.size() > limits.max_upload_bytes) {
    throw RequestError(name + ".data", "the file has " + std::to_string(upload.bytes.size()) + " bytes; at most " +
                                           std::to_string(limits.max_upload_bytes) + " are taken");
  }
  file.finish();
  return upload;
}

std::string read_result_id(Fields& f, const std::string& name) {
  const std::string id = f.text(name, "", 64);
  if (!ResultStore::is_valid_id(id)) throw RequestError(f.path(name), "is not a result id (32 hex digits)");
  return id;
}

}  // namespace

const std::string kBase64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string encode_base64(const std::string& bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t left = std::min<size_t>(3, bytes.size() - i);
    uint32_t group = 0;
    for (size_t k = 0; k < 3; ++k) group = (group << 8) | (k < left ? static_cast<uint8_t>(bytes[i + k]) : 0u);
    for (size_t k = 0; k < 4; ++k) out.push_back(k <= left ? kBase64Alphabet[(group >> (18 - 6 * k)) & 63] : '=');
  }
  return out;
}

std::string decode_base64(const std::string& text, const std::string& field) {
  const std::string& kAlphabet = kBase64Alphabet;
  std::string out;
  out.reserve(text.size() / 4 * 3 + 3);
  uint32_t buffer = 0;
  int bits = 0;
  size_t padding = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) throw RequestError(field, "is not base64: data after the '=' padding at character " + std::to_string(i + 1));
    const size_t v = kAlphabet.find(c);
    if (v == std::string::npos) {
      throw RequestError(field, "is not base64: character " + std::to_string(i + 1) + " is not in the base64 alphabet");
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  if (padding > 2 || bits >= 6) throw RequestError(field, "is not base64: its length does not end on a whole byte");
  return out;
}

ComposeRequest parse_compose_request(const std::string& body, const StudioLimits& limits) {
  Fields f(body);
  ComposeRequest r;
  r.sampling = read_sampling(f);
  r.bars = f.integer("bars", r.bars, 1, limits.max_bars);
  r.tempo = f.number("tempo", r.tempo, 30, 240);
  r.key = f.text("key", "", 32);
  if (!r.key.empty()) {
    try {
      music::parse_key(r.key);
    } catch (const std::invalid_argument& e) {
      throw RequestError("key", e.what());
    }
  }
  if (f.has("primer")) {
    Fields primer(f.raw("primer"), "primer.");
    const bool by_result = primer.has("result"), by_file = primer.has("data") || primer.has("name");
    if (by_result == by_file) throw RequestError("primer", "give either \"result\" (a result id) or \"name\" and \"data\" (a MIDI file)");
    if (by_result) {
      r.primer_result = read_result_id(primer, "result");
      primer.finish();
    } else {
      r.primer_file = read_upload(f, "primer", limits, /*musicxml_allowed=*/false);
    }
  }
  r.primer_steps = f.integer("primer_steps", r.primer_steps, 0, limits.max_bars * 16);
  f.finish();
  return r;
}

HarmonizeRequest parse_harmonize_request(const std::string& body, const StudioLimits& limits) {
  Fields f(body);
  HarmonizeRequest r;
  r.sampling = read_sampling(f, generate::kDefaultHarmonizeTemperature);
  r.sampler = read_sampler(f);
  r.tempo = f.number("tempo", r.tempo, 0, 240);
  if (r.tempo > 0 && r.tempo < 30) throw RequestError("tempo", "must be 0 (the melody's own) or between 30 and 240");
  const std::string transpose = f.text("transpose", "off", 8);
  if (transpose != "off" && transpose != "auto") throw RequestError("transpose", "must be \"off\" or \"auto\", not \"" + transpose + "\"");
  r.transpose_auto = transpose == "auto";
  r.notes = f.text("notes", "", limits.max_notes_text);
  if (f.has("melody")) r.melody = read_upload(f, "melody", limits, /*musicxml_allowed=*/true);
  if (r.notes.find_first_not_of(" \t\r\n") == std::string::npos) r.notes.clear();
  if (r.notes.empty() == r.melody.empty()) {
    throw RequestError(r.notes.empty() ? "notes" : "melody", "give the melody as \"notes\" (note text) or as \"melody\" (a file), one of them");
  }
  f.finish();
  return r;
}

InfillRequest parse_infill_request(const std::string& body, const StudioLimits& limits) {
  Fields f(body);
  InfillRequest r;
  r.sampling = read_sampling(f, generate::kDefaultHarmonizeTemperature);
  r.sampler = read_sampler(f);
  if (!f.has("result")) throw RequestError("result", "is required (the id of the result to redraw)");
  r.result = read_result_id(f, "result");
  if (!f.has("bars")) throw RequestError("bars", "is required: [first, last], counted from 1");
  const json& bars = f.raw("bars");
  if (!bars.is_array() || bars.size() != 2 || !bars[0].is_number_integer() || !bars[1].is_number_integer()) {
    throw RequestError("bars", "must be [first, last]: two whole numbers, counted from 1");
  }
  r.first_bar = bars[0].get<int64_t>();
  r.last_bar = bars[1].get<int64_t>();
  const int64_t most = 4 * limits.max_bars;  // a 3/16 meter packs up to 4x the bars of 4/4
  if (r.first_bar < 1 || r.last_bar < r.first_bar || r.last_bar > most) {
    throw RequestError("bars", "must be [first, last] with 1 <= first <= last <= " + std::to_string(most));
  }
  r.voices = f.text("voices", r.voices, 4);
  try {
    generate::parse_voices(r.voices);
  } catch (const std::invalid_argument& e) {
    std::string message = e.what();  // "--voices 'SAX': use ..." names a flag the API does not have
    const size_t colon = message.find(": ");
    if (message.rfind("--voices", 0) == 0 && colon != std::string::npos) message = message.substr(colon + 2);
    throw RequestError("voices", message);
  }
  f.finish();
  return r;
}

}  // namespace bachgen::serve
