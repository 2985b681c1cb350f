// libFuzzer target for the studio's request parsers (serve/studio_api.h), which read whatever a
// browser or any client sends: the first byte picks compose, harmonize or infill, the rest is
// the body. Any input parses or throws RequestError (nothing else: a JSON type error escaping
// would be a 500), and what parses respects every documented range.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "bachgen/io/utf8.h"
#include "bachgen/serve/studio_api.h"

namespace {

void fail(const char* what) {
  std::fprintf(stderr, "accepted out of range: %s\n", what);
  std::abort();
}

void check_sampling(const bachgen::serve::SamplingFields& s) {
  if (!(s.temperature >= 0 && s.temperature <= 5)) fail("temperature");
  if (s.top_k < 0 || s.top_k > 1000) fail("top_k");
  if (!(s.top_p > 0 && s.top_p <= 1)) fail("top_p");
  if (s.seed > 9007199254740991ull) fail("seed");
  if (s.voice_leading != bachgen::music::VoiceLeading::kStrict && s.voice_leading != bachgen::music::VoiceLeading::kOff) fail("voice_leading");
}

void check_upload(const bachgen::serve::UploadedFile& f, const bachgen::serve::StudioLimits& limits) {
  if (f.empty()) return;
  if (f.bytes.size() > limits.max_upload_bytes) fail("upload size");
  if (f.format != "mid" && f.format != "musicxml" && f.format != "mxl") fail("upload format");
  if (f.name.find('/') != std::string::npos) fail("upload name");
  if (bachgen::serve::decode_base64(bachgen::serve::encode_base64(f.bytes), "x") != f.bytes) fail("base64 round trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bachgen::serve;
  if (size == 0) return 0;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  StudioLimits limits;
  limits.max_upload_bytes = 64;
  try {
    switch (data[0] % 3) {
      case 0: {
        const ComposeRequest r = parse_compose_request(body, limits);
        check_sampling(r.sampling);
        if (r.bars < 1 || r.bars > limits.max_bars) fail("bars");
        if (!(r.tempo >= 30 && r.tempo <= 240)) fail("tempo");
        if (!r.primer_result.empty() && !r.primer_file.empty()) fail("two primers");
        check_upload(r.primer_file, limits);
        break;
      }
      case 1: {
        const HarmonizeRequest r = parse_harmonize_request(body, limits);
        check_sampling(r.sampling);
        if (r.notes.empty() == r.melody.empty()) fail("melody xor notes");
        if (r.notes.size() > limits.max_notes_text) fail("notes length");
        check_upload(r.melody, limits);
        break;
      }
      default: {
        const InfillRequest r = parse_infill_request(body, limits);
        check_sampling(r.sampling);
        if (r.first_bar < 1 || r.last_bar < r.first_bar) fail("bars");
        if (r.result.size() != 32) fail("result id");
        break;
      }
    }
  } catch (const RequestError& e) {
    // The error answer's path: what the server sends for it must encode, whatever the body held
    // (an exception here is what used to end the server).
    nlohmann::json answer = {{"error", bachgen::io::valid_utf8(e.what())}, {"field", bachgen::io::valid_utf8(e.field)}};
    const std::string text = answer.dump();
    if (nlohmann::json::parse(text)["error"].get<std::string>().empty() && std::string(e.what()).size() > 0) fail("error text");
  }
  return 0;
}
