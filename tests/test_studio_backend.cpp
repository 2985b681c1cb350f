// The studio with the real backend and the bundled models, over HTTP on loopback: compose,
// continue, harmonize and infill give files that parse, a harmonization keeps the melody, an
// infill keeps everything outside its selection, errors name the field without our temp paths,
// and the time limit stops a generation.
#include "bachgen/serve/studio_backend.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <pugixml.hpp>

#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "bachgen/io/zip_archive.h"
#include "bachgen/midi/midi_reader.h"
#include "bachgen/music/score.h"

namespace bachgen::serve {
namespace {

using nlohmann::json;

// Per voice, the pitch sounding at each step (-1 silent), from a notes JSON.
std::vector<std::array<int, 4>> steps_of(const json& notes) {
  std::vector<std::array<int, 4>> steps(notes["steps"].get<size_t>(), {-1, -1, -1, -1});
  for (const json& n : notes["notes"]) {
    const int voice = n[0], start = n[1], length = n[2], pitch = n[3];
    for (int t = start; t < start + length; ++t) steps.at(static_cast<size_t>(t))[static_cast<size_t>(voice)] = pitch;
  }
  return steps;
}

class StudioBackendTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ModelBackendOptions b;
    b.audio = "none";
    backend_ = make_model_backend(b).release();
  }
  static void TearDownTestSuite() { delete backend_; }

  void start(double time_limit = 60) {
    ServerOptions o;
    o.port = 0;
    o.log_requests = false;
    o.limits.time_limit_seconds = time_limit;
    server = std::make_unique<StudioServer>(*backend_, o);
    port = server->bind();
    thread = std::thread([this] { server->run(); });
  }
  void TearDown() override {
    if (server) server->stop();
    if (thread.joinable()) thread.join();
  }
  json post(const std::string& path, const std::string& body, int expected_status = 200) {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(120, 0);
    auto r = c.Post(path.c_str(), body, "application/json");
    EXPECT_TRUE(r);
    if (!r) return json::object();
    EXPECT_EQ(r->status, expected_status) << path << " " << body.substr(0, 200) << " -> " << r->body;
    return json::parse(r->body);
  }
  std::string get(const std::string& path) {
    httplib::Client c("127.0.0.1", port);
    auto r = c.Get(path.c_str());
    EXPECT_TRUE(r && r->status == 200) << path;
    return r ? r->body : "";
  }

  static StudioBackend* backend_;
  std::unique_ptr<StudioServer> server;
  std::thread thread;
  int port = 0;
};
StudioBackend* StudioBackendTest::backend_ = nullptr;

TEST_F(StudioBackendTest, ComposeContinueAndInfillKeepWhatTheyShould) {
  start();
  const json info = json::parse(backend_->info_json());
  EXPECT_EQ(info["models"]["compose"]["kind"], "music-transformer");
  EXPECT_EQ(info["models"]["harmonize"]["kind"], "chorale-infill");

  const json composed = post("/api/compose", R"({"bars":2,"seed":5})");
  EXPECT_EQ(composed["bars"], 2);
  const std::string id = composed["id"];
  EXPECT_FALSE(composed["files"].contains("wav"));  // audio none
  const std::string mid = get("/api/results/" + id + ".mid");
  const midi::MidiFile file = midi::parse_midi(reinterpret_cast<const uint8_t*>(mid.data()), mid.size(), "composed.mid");
  const music::Score score = music::score_from_midi(file);
  EXPECT_EQ(score.voices(), 4);
  pugi::xml_document xml;
  const std::string musicxml = get("/api/results/" + id + ".musicxml");
  ASSERT_TRUE(xml.load_buffer(musicxml.data(), musicxml.size()));
  EXPECT_EQ(xml.select_nodes("/score-partwise/part").size(), 4u);
  const json notes = json::parse(get("/api/results/" + id + ".json"));
  EXPECT_EQ(notes["steps_per_bar"], 16);
  const auto composed_steps = steps_of(notes);
  EXPECT_LE(composed_steps.size(), 32u);
  // The notes JSON is the MIDI file: the grid read back from it agrees step by step.
  const music::ChoraleGrid grid = music::score_to_grid(score);
  ASSERT_EQ(grid.steps(), composed_steps.size());
  for (size_t t = 0; t < grid.steps(); ++t) {
    for (size_t v = 0; v < 4; ++v) EXPECT_EQ(grid.pitches[t][v], composed_steps[t][v]) << t << " " << v;
  }

  // Continue: all of it as the primer, then 2 bars more.
  const json continued = post("/api/compose", R"({"bars":4,"seed":6,"primer":{"result":")" + id + R"("},"primer_steps":0})");
  EXPECT_EQ(continued["kind"], "continue");
  const auto continued_steps = steps_of(json::parse(get(continued["files"]["json"])));
  ASSERT_GE(continued_steps.size(), composed_steps.size());
  for (size_t t = 0; t < composed_steps.size(); ++t) {
    for (size_t v = 0; v < 4; ++v) {
      // A primer's last note may be held on into the continuation; its pitch stays.
      EXPECT_EQ(continued_steps[t][v], composed_steps[t][v]) << t << " " << v;
    }
  }

  // Infill bar 2, alto only: every other variable stays.
  const json redrawn = post("/api/infill", R"({"result":")" + id + R"(","bars":[2,2],"voices":"A","seed":9})");
  EXPECT_EQ(redrawn["kind"], "infill");
  const auto redrawn_steps = steps_of(json::parse(get(redrawn["files"]["json"])));
  ASSERT_EQ(redrawn_steps.size(), composed_steps.size());
  for (size_t t = 0; t < composed_steps.size(); ++t) {
    for (size_t v = 0; v < 4; ++v) {
      if (v == 1 && t >= 16) continue;
      EXPECT_EQ(redrawn_steps[t][v], composed_steps[t][v]) << t << " " << v;
    }
  }
}

TEST_F(StudioBackendTest, HarmonizeKeepsTheMelody) {
  start();
  const json answer = post("/api/harmonize", R"({"notes":"C5:1 D5 E5 F5 | G5:2 E5:2 | D5:4 |","seed":3})");
  EXPECT_EQ(answer["bars"], 3);
  const json notes = json::parse(get(answer["files"]["json"]));
  std::vector<json> soprano;
  std::set<int> voices;
  for (const json& n : notes["notes"]) {
    voices.insert(n[0].get<int>());
    if (n[0] == 0) soprano.push_back(n);
  }
  EXPECT_EQ(voices, (std::set<int>{0, 1, 2, 3}));
  // Each note with its written name: the melody's own spelling.
  const std::vector<json> expected = {{0, 0, 4, 72, "C5"}, {0, 4, 4, 74, "D5"}, {0, 8, 4, 76, "E5"}, {0, 12, 4, 77, "F5"},
                                      {0, 16, 8, 79, "G5"}, {0, 24, 8, 76, "E5"}, {0, 32, 16, 74, "D5"}};
  EXPECT_EQ(soprano, expected);
  // The rules, as the details report them: the lower voices on the 8th grid by default; a
  // melody ending on its tonic ends on the tonic chord, the tonic in the bass.
  EXPECT_GT(answer["details"]["held_by_rhythm"].get<int>(), 0) << answer;
  const json ending = post("/api/harmonize", R"({"notes":"G4:1 C5 D5 E5 | D5:2 B4:2 | C5:4 |","seed":3,"cadence":"tonic"})");
  EXPECT_EQ(ending["details"]["cadence"], true) << ending;
  int last_bass = -1;
  const json ending_notes = json::parse(get(ending["files"]["json"]));
  for (const json& n : ending_notes["notes"]) {
    if (n[0] == 3) last_bass = n[3].get<int>();
    if (n[0] != 0 && n[1].get<int>() % 2 == 1) ADD_FAILURE() << "a lower-voice note on an odd 16th: " << n;
  }
  EXPECT_EQ(last_bass % 12, 0) << "the last bass note is a C";
  const json sixteenths = post("/api/harmonize", R"({"notes":"C5:4 |","rhythm":"sixteenths","cadence":"free"})");
  EXPECT_EQ(sixteenths["details"]["held_by_rhythm"], 0) << sixteenths;
  EXPECT_EQ(sixteenths["details"]["cadence"], false) << sixteenths;
  EXPECT_EQ(post("/api/harmonize", R"({"notes":"C5:4 |","rhythm":"triplets"})", 400)["field"], "rhythm");
  EXPECT_EQ(post("/api/harmonize", R"({"notes":"C5:4 |","cadence":"plagal"})", 400)["field"], "cadence");
  EXPECT_EQ(post("/api/harmonize", R"({"notes":"C5:4 |","final_temperature":7})", 400)["field"], "final_temperature");
  EXPECT_EQ(post("/api/harmonize", R"({"notes":"C5:4 |","hold_temperature":"warm"})", 400)["field"], "hold_temperature");
  const json constant = post("/api/harmonize", R"({"notes":"C5:4 |","final_temperature":0,"hold_temperature":0})");
  EXPECT_EQ(constant["details"]["key"], "C major") << constant;
  EXPECT_TRUE(constant["details"]["precision"] == "bf16" || constant["details"]["precision"] == "fp32") << constant;
  EXPECT_EQ(constant["details"]["candidates"], 1) << constant;
  const json critic = post("/api/harmonize", R"({"notes":"C5:4 |","candidates":3,"critic":"model"})");
  EXPECT_EQ(critic["details"]["candidates"], 3) << critic;
  EXPECT_GE(critic["details"]["chosen_candidate"].get<int>(), 1) << critic;
  EXPECT_LE(critic["details"]["chosen_candidate"].get<int>(), 3) << critic;
  EXPECT_EQ(post("/api/harmonize", R"({"notes":"C5:4 |","candidates":9})", 400)["field"], "candidates");
  EXPECT_EQ(post("/api/harmonize", R"({"notes":"C5:4 |","critic":"composer"})", 400)["field"], "critic");
  // The same melody uploaded as MIDI (the result's own file) harmonizes too.
  const std::string mid = get(answer["files"]["mid"]);
  const json upload = {{"melody", {{"name", "tune.mid"}, {"data", encode_base64(mid)}}}};
  const json again = post("/api/harmonize", upload.dump());
  std::vector<json> soprano_again;
  const json notes_again = json::parse(get(again["files"]["json"]));
  for (const json& n : notes_again["notes"]) {
    if (n[0] == 0) soprano_again.push_back(n);
  }
  // The melody reader takes the top sounding line of all tracks: where the alto strikes the
  // soprano's held pitch in unison it reads a repeated note, so compare the sounding pitches.
  const auto sounding = [](const std::vector<json>& notes) {
    std::vector<int> steps;
    for (const json& n : notes) {
      steps.resize(std::max(steps.size(), n[1].get<size_t>() + n[2].get<size_t>()), -1);
      for (size_t t = n[1].get<size_t>(); t < n[1].get<size_t>() + n[2].get<size_t>(); ++t) steps[t] = n[3].get<int>();
    }
    return steps;
  };
  EXPECT_EQ(sounding(soprano_again), sounding(expected));
  // And as compressed MusicXML (the result's own MusicXML in a ZIP archive, as MuseScore saves .mxl).
  const std::string xml = get(answer["files"]["musicxml"]);
  // The hymnal's layout beside it: one part on two staves.
  const std::string hymnal = get(answer["files"]["hymnal.musicxml"]);
  EXPECT_NE(hymnal.find("<staves>2</staves>"), std::string::npos);
  EXPECT_EQ(hymnal.find("<part id=\"P2\">"), std::string::npos);
  const std::vector<uint8_t> mxl = io::make_zip({{"score.musicxml", std::vector<uint8_t>(xml.begin(), xml.end())}}, true);
  const json mxl_upload = {{"melody", {{"name", "tune.mxl"}, {"data", encode_base64(std::string(mxl.begin(), mxl.end()))}}}};
  const json from_mxl = post("/api/harmonize", mxl_upload.dump());
  std::vector<json> soprano_mxl;
  const json notes_mxl = json::parse(get(from_mxl["files"]["json"]));
  for (const json& n : notes_mxl["notes"]) {
    if (n[0] == 0) soprano_mxl.push_back(n);
  }
  EXPECT_EQ(soprano_mxl, expected) << from_mxl;
}

TEST_F(StudioBackendTest, ErrorsNameTheFieldAndNotOurTempFiles) {
  start();
  const json high = post("/api/harmonize", R"({"notes":"G4 | C7"})", 400);
  EXPECT_EQ(high["field"], "notes");
  EXPECT_NE(high["error"].get<std::string>().find("C7"), std::string::npos) << high;
  EXPECT_EQ(high["error"].get<std::string>().find("--notes"), std::string::npos) << high;
  const json broken = post("/api/harmonize", R"({"melody":{"name":"tune.mid","data":"TVRoZAAAAAY="}})", 400);
  EXPECT_EQ(broken["field"], "melody");
  EXPECT_NE(broken["error"].get<std::string>().find("tune.mid"), std::string::npos) << broken;
  EXPECT_EQ(broken["error"].get<std::string>().find("/tmp"), std::string::npos) << broken;
  const json primer = post("/api/compose", R"({"primer":{"name":"p.mid","data":"AAAA"}})", 400);
  EXPECT_EQ(primer["field"], "primer");
  EXPECT_EQ(primer["error"].get<std::string>().find("/tmp"), std::string::npos) << primer;
  // A primer as long as the request: nothing left to compose.
  const json made = post("/api/compose", R"({"bars":2})");
  const json full = post("/api/compose", R"({"bars":2,"primer":{"result":")" + made["id"].get<std::string>() + R"("},"primer_steps":0})", 400);
  EXPECT_EQ(full["field"], "bars");
}

// Damaged uploads against the real models: truncated and bit-flipped MIDI, MusicXML and .mxl
// files as melodies and primers, and note text with bytes that are not pitches. Each is
// answered 4xx, or 200 when the damage left a readable file; never 5xx; /health after each.
TEST_F(StudioBackendTest, DamagedUploadsAreAnswered4xxNever5xx) {
  start(/*time_limit=*/20);
  const json made = post("/api/harmonize", R"({"notes":"C5:1 D5 E5 F5 | G5:4 |","seed":3})");
  const std::string mid = get(made["files"]["mid"]), xml = get(made["files"]["musicxml"]);
  const std::vector<uint8_t> zip = io::make_zip({{"score.musicxml", std::vector<uint8_t>(xml.begin(), xml.end())}}, true);
  const std::string mxl(zip.begin(), zip.end());
  std::mt19937 rng(7);
  int answered = 0;
  for (int k = 0; k < 36; ++k) {
    const std::string& original = k % 3 == 0 ? mid : k % 3 == 1 ? xml : mxl;
    const std::string name = k % 3 == 0 ? "tune.mid" : k % 3 == 1 ? "tune.musicxml" : "tune.mxl";
    std::string damaged = original;
    if (k % 2 == 0) {
      damaged.resize(rng() % damaged.size());  // truncated
    } else {
      for (int f = 0; f < 1 + k % 5; ++f) damaged[rng() % damaged.size()] ^= static_cast<char>(1 << (rng() % 8));  // bits flipped
    }
    const json upload = {{"name", name}, {"data", encode_base64(damaged)}};
    const bool as_primer = k % 3 == 0 && k % 4 == 0;
    const std::string route = as_primer ? "/api/compose" : "/api/harmonize";
    const json body = as_primer ? json{{"bars", 2}, {"primer", upload}} : json{{"melody", upload}};
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60, 0);
    const auto r = c.Post(route.c_str(), body.dump(), "application/json");
    ASSERT_TRUE(r) << "no answer to damaged " << name;
    EXPECT_TRUE(r->status == 200 || (r->status >= 400 && r->status < 500)) << r->status << " for damaged " << name << ": " << r->body;
    EXPECT_NO_THROW(json::parse(r->body));
    ++answered;
    const auto health = c.Get("/health");
    ASSERT_TRUE(health && health->status == 200);
  }
  EXPECT_EQ(answered, 36);
  // JSON escapes: é4, 😀5 (a surrogate pair), a NUL, ÿ4.
  for (const char* notes : {R"(\u00e94:1 |)", R"(C5:1 | \ud83d\ude005:4 |)", R"(C5:1 |\u0000)", R"(G4 \u00ff4)"}) {
    const json bad = post("/api/harmonize", std::string(R"({"notes":")") + notes + "\"}", 400);
    EXPECT_EQ(bad["field"], "notes") << notes << " " << bad;
  }
}

TEST_F(StudioBackendTest, TheTimeLimitStopsAGeneration) {
  start(/*time_limit=*/1e-6);
  const json slow = post("/api/compose", R"({"bars":8})", 503);
  EXPECT_NE(slow["error"].get<std::string>().find("time limit"), std::string::npos) << slow;
  const json slow_harmony = post("/api/harmonize", R"({"notes":"C5 D5 E5 F5"})", 503);
  EXPECT_NE(slow_harmony["error"].get<std::string>().find("time limit"), std::string::npos) << slow_harmony;
}

TEST(StudioBackendStart, RefusesModelsThatCannotDoTheirJob) {
  ModelBackendOptions swapped;
  swapped.compose_model = "jsb-infill";
  try {
    make_model_backend(swapped);
    ADD_FAILURE();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("next-token model"), std::string::npos) << e.what();
  }
  ModelBackendOptions wrong;
  wrong.infill_model = "jsb-compose";
  EXPECT_THROW(make_model_backend(wrong), std::runtime_error);
  ModelBackendOptions missing;
  missing.compose_model = "no-such-model";
  try {
    make_model_backend(missing);
    ADD_FAILURE();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("jsb-compose"), std::string::npos) << e.what();  // lists the bundled names
  }
}

}  // namespace
}  // namespace bachgen::serve
