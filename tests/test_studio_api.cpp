// The studio's request parsing: every field's checks (a table of bad bodies and the field each
// must name), base64, and the notes JSON of the piano roll (hand-computed).
#include "bachgen/serve/studio_api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace bachgen::serve {
namespace {

const std::string kId(32, 'a');

enum class Route { kCompose, kHarmonize, kInfill };

void parse(Route route, const std::string& body, const StudioLimits& limits = {}) {
  switch (route) {
    case Route::kCompose: parse_compose_request(body, limits); break;
    case Route::kHarmonize: parse_harmonize_request(body, limits); break;
    case Route::kInfill: parse_infill_request(body, limits); break;
  }
}

struct BadCase {
  Route route;
  std::string body;
  std::string field;    // the field the error must name
  std::string message;  // a part of its message
};

TEST(StudioApi, EveryBadFieldIsNamed) {
  const std::string infill = R"({"result":")" + kId + R"(","bars":[1,2])";
  const std::vector<BadCase> cases = {
      {Route::kCompose, "{bars", "", "not valid JSON"},
      {Route::kCompose, "[1,2]", "", "JSON object"},
      {Route::kCompose, R"({"bars":1e400})", "", "not valid JSON"},
      {Route::kCompose, R"({"temperature":-0.5})", "temperature", "between 0 and 5"},
      {Route::kCompose, R"({"temperature":"hot"})", "temperature", "a number"},
      {Route::kCompose, R"({"top_k":2.5})", "top_k", "whole number"},
      {Route::kCompose, R"({"top_k":1001})", "top_k", "between 0 and 1000"},
      {Route::kCompose, R"({"top_p":0})", "top_p", "above 0"},
      {Route::kCompose, R"({"top_p":1.5})", "top_p", "between 0 and 1"},
      {Route::kCompose, R"({"seed":-1})", "seed", "between 0 and"},
      {Route::kCompose, R"({"seed":9007199254740992})", "seed", "between 0 and 9007199254740991"},
      {Route::kCompose, R"({"bars":0})", "bars", "between 1 and 32"},
      {Route::kCompose, R"({"bars":33})", "bars", "between 1 and 32"},
      {Route::kCompose, R"({"tempo":10})", "tempo", "between 30 and 240"},
      {Route::kCompose, R"({"key":"H major"})", "key", "H"},
      {Route::kCompose, R"({"key":7})", "key", "a string"},
      {Route::kCompose, R"({"voice_leading":"loose"})", "voice_leading", "strict"},
      {Route::kCompose, R"({"colour":"blue"})", "colour", "not a field"},
      {Route::kCompose, R"({"primer":{"result":")" + kId + R"(","name":"a.mid","data":"AAAA"}})", "primer", "either"},
      {Route::kCompose, R"({"primer":{}})", "primer", "either"},
      {Route::kCompose, R"({"primer":"a.mid"})", "primer", "an object"},
      {Route::kCompose, R"({"primer":{"result":"../../etc/passwd"}})", "primer.result", "not a result id"},
      {Route::kCompose, R"({"primer":{"name":"../a.mid","data":"AAAA"}})", "primer.name", "without folders"},
      {Route::kCompose, R"({"primer":{"name":"a.txt","data":"AAAA"}})", "primer.name", ".mid"},
      {Route::kCompose, R"({"primer":{"name":"a.musicxml","data":"AAAA"}})", "primer.name", ".mid"},
      {Route::kCompose, R"({"primer":{"name":"a.mid"}})", "primer.data", "required"},
      {Route::kCompose, R"({"primer":{"name":"a.mid","data":"A*AA"}})", "primer.data", "character 2"},
      {Route::kCompose, R"({"primer":{"name":"a.mid","data":""}})", "primer.data", "empty"},
      {Route::kCompose, R"({"primer":{"name":"a.mid","data":"AAAA","size":3}})", "primer.size", "not a field"},
      {Route::kCompose, R"({"primer_steps":-1})", "primer_steps", "between 0 and 512"},
      {Route::kHarmonize, R"({})", "notes", "one of them"},
      {Route::kHarmonize, R"({"notes":"   "})", "notes", "one of them"},
      {Route::kHarmonize, R"({"notes":"C5","melody":{"name":"a.mid","data":"AAAA"}})", "melody", "one of them"},
      {Route::kHarmonize, R"({"notes":")" + std::string(4097, 'C') + R"("})", "notes", "4097 characters"},
      {Route::kHarmonize, R"({"melody":{"name":"a.mscz","data":"AAAA"}})", "melody.name", ".xml or .mxl"},
      {Route::kHarmonize, R"({"notes":"C5","tempo":12})", "tempo", "30 and 240"},
      {Route::kHarmonize, R"({"notes":"C5","bars":4})", "bars", "not a field"},
      {Route::kInfill, R"({"bars":[1,2]})", "result", "required"},
      {Route::kInfill, R"({"result":"xyz","bars":[1,2]})", "result", "not a result id"},
      {Route::kInfill, R"({"result":")" + kId + R"("})", "bars", "required"},
      {Route::kInfill, R"({"result":")" + kId + R"(","bars":"1-2"})", "bars", "[first, last]"},
      {Route::kInfill, R"({"result":")" + kId + R"(","bars":[3,2]})", "bars", "first <= last"},
      {Route::kInfill, R"({"result":")" + kId + R"(","bars":[0,2]})", "bars", "1 <= first"},
      {Route::kInfill, R"({"result":")" + kId + R"(","bars":[1,129]})", "bars", "<= 128"},
      {Route::kInfill, infill + R"(,"voices":"SAX"})", "voices", "S, A, T and B"},
      {Route::kInfill, infill + R"(,"voices":"AA"})", "voices", "twice"},
      {Route::kInfill, infill + R"(,"voices":""})", "voices", "at least one"},
  };
  for (const BadCase& c : cases) {
    try {
      parse(c.route, c.body);
      ADD_FAILURE() << "accepted: " << c.body;
    } catch (const RequestError& e) {
      EXPECT_EQ(e.field, c.field) << c.body << " -> " << e.what();
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << c.body << " -> " << e.what();
    }
  }
}

TEST(StudioApi, GoodRequestsReadEveryField) {
  const ComposeRequest c = parse_compose_request(
      R"({"temperature":0.9,"top_k":20,"top_p":0.95,"seed":42,"voice_leading":"off","bars":12,"tempo":96,"key":"D minor",)"
      R"("primer":{"result":")" + kId + R"("},"primer_steps":0})",
      {});
  EXPECT_DOUBLE_EQ(c.sampling.temperature, 0.9);
  EXPECT_EQ(c.sampling.top_k, 20);
  EXPECT_DOUBLE_EQ(c.sampling.top_p, 0.95);
  EXPECT_EQ(c.sampling.seed, 42u);
  EXPECT_EQ(c.sampling.voice_leading, music::VoiceLeading::kOff);
  EXPECT_EQ(c.bars, 12);
  EXPECT_DOUBLE_EQ(c.tempo, 96);
  EXPECT_EQ(c.key, "D minor");
  EXPECT_EQ(c.primer_result, kId);
  EXPECT_EQ(c.primer_steps, 0);
  const ComposeRequest defaults = parse_compose_request("{}", {});
  EXPECT_EQ(defaults.bars, 8);
  EXPECT_EQ(defaults.sampling.seed, 1u);
  EXPECT_EQ(defaults.sampling.voice_leading, music::VoiceLeading::kStrict);
  EXPECT_TRUE(defaults.primer_file.empty());
  // null counts as absent (what a form without a value sends).
  EXPECT_EQ(parse_compose_request(R"({"bars":null})", {}).bars, 8);

  const HarmonizeRequest h = parse_harmonize_request(R"({"melody":{"name":"Tune.MusicXML","data":"PHNjb3JlLz4="}})", {});
  EXPECT_EQ(h.melody.format, "musicxml");
  EXPECT_EQ(h.melody.bytes, "<score/>");
  EXPECT_EQ(h.melody.name, "Tune.MusicXML");
  EXPECT_EQ(parse_harmonize_request(R"({"notes":"C5 D5"})", {}).notes, "C5 D5");
  EXPECT_EQ(parse_harmonize_request(R"({"melody":{"name":"tune.mxl","data":"UEsFBg=="}})", {}).melody.format, "mxl");

  const InfillRequest i = parse_infill_request(R"({"result":")" + kId + R"(","bars":[2,5],"voices":"tb"})", {});
  EXPECT_EQ(i.result, kId);
  EXPECT_EQ(i.first_bar, 2);
  EXPECT_EQ(i.last_bar, 5);
  EXPECT_EQ(i.voices, "tb");
}

TEST(StudioApi, UploadsAreLimitedAfterDecoding) {
  StudioLimits limits;
  limits.max_upload_bytes = 6;
  EXPECT_EQ(parse_harmonize_request(R"({"melody":{"name":"a.mid","data":"AAAAAAAA"}})", limits).melody.bytes.size(), 6u);
  try {
    parse_harmonize_request(R"({"melody":{"name":"a.mid","data":"AAAAAAAAAA=="}})", limits);  // 7 bytes
    ADD_FAILURE();
  } catch (const RequestError& e) {
    EXPECT_EQ(e.field, "melody.data");
    EXPECT_NE(std::string(e.what()).find("at most 6"), std::string::npos) << e.what();
  }
}

TEST(StudioApi, Base64DecodesTheRfcTable) {
  // RFC 4648 section 10.
  const std::vector<std::pair<std::string, std::string>> table = {
      {"", ""}, {"Zg==", "f"}, {"Zm8=", "fo"}, {"Zm9v", "foo"}, {"Zm9vYg==", "foob"}, {"Zm9vYmE=", "fooba"}, {"Zm9vYmFy", "foobar"},
      {"Zm9vYg", "foob"},  // padding optional
      {"/+8=", "\xff\xef"},
  };
  for (const auto& [encoded, decoded] : table) {
    EXPECT_EQ(decode_base64(encoded, "f"), decoded) << encoded;
    if (encoded.size() % 4 == 0) {
      EXPECT_EQ(encode_base64(decoded), encoded);
    }
  }
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  for (size_t n = 0; n <= all_bytes.size(); n += 37) EXPECT_EQ(decode_base64(encode_base64(all_bytes.substr(0, n)), "f"), all_bytes.substr(0, n));
  EXPECT_THROW(decode_base64("Zm9v=g", "f"), RequestError);   // data after padding
  EXPECT_THROW(decode_base64("Z", "f"), RequestError);        // 6 bits: not a byte
  EXPECT_THROW(decode_base64("Zm9v\n", "f"), RequestError);   // no line breaks
  EXPECT_THROW(decode_base64("Zg===", "f"), RequestError);
}

}  // namespace
}  // namespace bachgen::serve
