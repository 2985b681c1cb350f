// The studio server over a stand-in backend: every route, the answers to bad requests, the
// worker pool's limits (503 + Retry-After), the store's eviction, no path traversal, and the
// embedded page. Runs on loopback with a free port.
#include "bachgen/serve/studio_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "bachgen/generate/errors.h"

namespace bachgen::serve {
namespace {

using nlohmann::json;

// Answers with fixed files; can block until opened, or fail in a chosen way.
class StandInBackend : public StudioBackend {
 public:
  std::string info_json() const override { return R"({"models":{"compose":{"shape":"stand-in"}},"vocab":"satb16"})"; }
  GenerationOutput compose(const ComposeRequest& r, const StoredResult* primer, int, double time_limit) override {
    last_primer = primer ? primer->id : (r.primer_file.empty() ? "" : "file:" + r.primer_file.name);
    last_time_limit = time_limit;
    return answer(r.bars);
  }
  GenerationOutput harmonize(const HarmonizeRequest& r, int, double) override {
    if (r.notes == "fail") throw std::runtime_error("the soundfont is missing");
    if (r.notes == "slow") throw generate::TimeLimitExceeded(60);
    if (r.notes == "bad") throw RequestError("notes", "item 1 ('H4'): 'H' is not a pitch name");
    return answer(2);
  }
  GenerationOutput infill(const InfillRequest& r, const StoredResult& source, int, double) override {
    last_infill_source = source.id;
    last_voices = r.voices;
    return answer(source.bars);
  }

  GenerationOutput answer(int64_t bars) {
    {
      std::unique_lock<std::mutex> lock(mutex);
      ++entered;
      entered_cv.notify_all();
      open_cv.wait(lock, [this] { return open; });
    }
    GenerationOutput out;
    out.files = {{"mid", std::string("MThd\0\0\0\6", 8)}, {"musicxml", "<score-partwise/>"}, {"wav", std::string(100, '\1')}};
    out.notes_json = R"({"notes":[[0,0,4,72]]})";
    out.bars = bars;
    out.seconds = 0.25;
    out.details_json = R"({"new_tokens":64})";
    return out;
  }
  void close_gate() {
    std::lock_guard<std::mutex> lock(mutex);
    open = false;
  }
  void open_gate() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      open = true;
    }
    open_cv.notify_all();
  }
  void wait_entered(int n) {
    std::unique_lock<std::mutex> lock(mutex);
    ASSERT_TRUE(entered_cv.wait_for(lock, std::chrono::seconds(10), [&] { return entered >= n; }));
  }

  std::mutex mutex;
  std::condition_variable open_cv, entered_cv;
  bool open = true;
  int entered = 0;
  std::string last_primer, last_infill_source, last_voices;
  double last_time_limit = 0;
};

class StudioServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions options = {}) {
    options.port = 0;
    options.log_requests = false;
    server = std::make_unique<StudioServer>(backend, options);
    port = server->bind();
    thread = std::thread([this] { server->run(); });
  }
  void TearDown() override {
    backend.open_gate();
    if (server) server->stop();
    if (thread.joinable()) thread.join();
  }
  httplib::Client client() {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30, 0);
    return c;
  }
  httplib::Result post(const std::string& path, const std::string& body) { return client().Post(path.c_str(), body, "application/json"); }
  static json body_of(const httplib::Result& r) { return json::parse(r->body); }

  StandInBackend backend;
  std::unique_ptr<StudioServer> server;
  std::thread thread;
  int port = 0;
};

TEST_F(StudioServerTest, HealthInfoAndThePage) {
  ServerOptions o;
  o.workers = 2;
  o.queue = 3;
  start(o);
  auto health = client().Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(body_of(health)["status"], "ok");
  auto info = client().Get("/api/info");
  ASSERT_TRUE(info);
  const json i = body_of(info);
  EXPECT_EQ(i["models"]["compose"]["shape"], "stand-in");
  EXPECT_EQ(i["limits"]["workers"], 2);
  EXPECT_EQ(i["limits"]["queue"], 3);
  EXPECT_EQ(i["limits"]["max_bars"], 32);
  EXPECT_EQ(i["limits"]["max_upload_bytes"], 1 << 20);
  EXPECT_TRUE(i.contains("version"));
  // The page and its files, from the binary.
  auto page = client().Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("bachgen studio"), std::string::npos);
  EXPECT_NE(page->body.find("/app.js"), std::string::npos);
  EXPECT_EQ(page->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  size_t count = 0;
  const WebAsset* assets = web_assets(&count);
  ASSERT_GE(count, 4u);
  for (size_t a = 0; a < count; ++a) {
    auto file = client().Get(assets[a].path);
    ASSERT_TRUE(file) << assets[a].path;
    EXPECT_EQ(file->status, 200) << assets[a].path;
    EXPECT_EQ(file->body, std::string(reinterpret_cast<const char*>(assets[a].data), assets[a].size));
    EXPECT_EQ(file->get_header_value("Content-Type"), assets[a].content_type);
  }
  EXPECT_EQ(client().Get("/app.js")->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
}

TEST_F(StudioServerTest, UnknownRoutesAndMethodsAre404Json) {
  start();
  for (const char* path : {"/nope", "/api", "/api/compose/x", "/api/results", "/index.htm"}) {
    auto r = client().Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_NE(body_of(r)["error"].get<std::string>().find(path), std::string::npos) << r->body;
  }
  auto r = client().Get("/api/compose");  // POST only
  EXPECT_EQ(r->status, 404);
  auto d = client().Delete("/health");
  EXPECT_EQ(d->status, 404);
}

TEST_F(StudioServerTest, ComposeStoresTheResultAndServesItsFiles) {
  ServerOptions o;
  o.limits.time_limit_seconds = 17;
  start(o);
  auto r = post("/api/compose", R"({"bars":4,"seed":7})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json answer = body_of(r);
  const std::string id = answer["id"];
  EXPECT_TRUE(ResultStore::is_valid_id(id));
  EXPECT_EQ(answer["kind"], "compose");
  EXPECT_EQ(answer["bars"], 4);
  EXPECT_EQ(answer["seconds"], 0.25);
  EXPECT_EQ(answer["details"]["new_tokens"], 64);
  EXPECT_EQ(answer["files"]["mid"], "/api/results/" + id + ".mid");
  EXPECT_EQ(backend.last_time_limit, 17);
  const std::vector<std::pair<std::string, std::string>> files = {
      {"mid", "audio/midi"}, {"musicxml", "application/vnd.recordare.musicxml+xml"}, {"wav", "audio/wav"}, {"json", "application/json"}};
  for (const auto& [extension, type] : files) {
    auto f = client().Get(answer["files"][extension].get<std::string>().c_str());
    ASSERT_TRUE(f);
    EXPECT_EQ(f->status, 200) << extension;
    EXPECT_EQ(f->get_header_value("Content-Type"), type);
    EXPECT_EQ(f->get_header_value("Content-Disposition"), "");
  }
  EXPECT_EQ(client().Get(("/api/results/" + id + ".mid").c_str())->body, std::string("MThd\0\0\0\6", 8));
  EXPECT_EQ(client().Get(("/api/results/" + id + ".json").c_str())->body, R"({"notes":[[0,0,4,72]]})");
  auto download = client().Get(("/api/results/" + id + ".wav?download=1").c_str());
  EXPECT_EQ(download->get_header_value("Content-Disposition"), "attachment; filename=\"bachgen-compose-" + id.substr(0, 8) + ".wav\"");
  // Continue from it, and redraw part of it.
  auto more = post("/api/compose", R"({"bars":8,"primer":{"result":")" + id + R"("}})");
  ASSERT_EQ(more->status, 200) << more->body;
  EXPECT_EQ(body_of(more)["kind"], "continue");
  EXPECT_EQ(backend.last_primer, id);
  auto upload = post("/api/compose", R"({"bars":8,"primer":{"name":"mine.mid","data":"TVRoZA=="}})");
  ASSERT_EQ(upload->status, 200) << upload->body;
  EXPECT_EQ(backend.last_primer, "file:mine.mid");
  auto redrawn = post("/api/infill", R"({"result":")" + id + R"(","bars":[2,4],"voices":"SB"})");
  ASSERT_EQ(redrawn->status, 200) << redrawn->body;
  EXPECT_EQ(body_of(redrawn)["kind"], "infill");
  EXPECT_EQ(backend.last_infill_source, id);
  EXPECT_EQ(backend.last_voices, "SB");
  EXPECT_EQ(server->store().count(), 4u);
}

TEST_F(StudioServerTest, BadRequestsAre400WithTheField) {
  start();
  const std::string unknown = ResultStore::new_id();
  struct Case {
    std::string path, body;
    int status;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"/api/compose", "not json", 400, ""},
      {"/api/compose", R"({"top_p":2})", 400, "top_p"},
      {"/api/compose", R"({"bars":"many"})", 400, "bars"},
      {"/api/harmonize", R"({})", 400, "notes"},
      {"/api/harmonize", R"({"notes":"bad"})", 400, "notes"},      // the backend's RequestError
      {"/api/infill", R"({"result":"abc","bars":[1,1]})", 400, "result"},
      {"/api/infill", R"({"result":")" + unknown + R"(","bars":[1,1]})", 404, "result"},
      {"/api/compose", R"({"primer":{"result":")" + unknown + R"("}})", 404, "primer.result"},
  };
  for (const Case& c : cases) {
    auto r = post(c.path, c.body);
    ASSERT_TRUE(r) << c.body;
    EXPECT_EQ(r->status, c.status) << c.body << " -> " << r->body;
    const json e = body_of(r);
    EXPECT_FALSE(e["error"].get<std::string>().empty()) << r->body;
    EXPECT_EQ(e.value("field", ""), c.field) << r->body;
  }
  // Bars beyond the stored result's length.
  auto made = post("/api/compose", R"({"bars":3})");
  const std::string id = body_of(made)["id"];
  auto r = post("/api/infill", R"({"result":")" + id + R"(","bars":[2,4]})");
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(body_of(r)["field"], "bars");
  EXPECT_NE(r->body.find("3 bar(s)"), std::string::npos) << r->body;
  EXPECT_EQ(server->store().count(), 1u);  // nothing stored for the failures
}

TEST_F(StudioServerTest, BackendFailuresAre500And503) {
  start();
  auto failed = post("/api/harmonize", R"({"notes":"fail"})");
  EXPECT_EQ(failed->status, 500);
  EXPECT_NE(body_of(failed)["error"].get<std::string>().find("the soundfont is missing"), std::string::npos);
  auto slow = post("/api/harmonize", R"({"notes":"slow"})");
  EXPECT_EQ(slow->status, 503);
  EXPECT_EQ(slow->get_header_value("Retry-After"), "5");
  EXPECT_NE(body_of(slow)["error"].get<std::string>().find("time limit of 60 s"), std::string::npos);
  EXPECT_EQ(client().Get("/health")->status, 200);  // still serving
}

TEST_F(StudioServerTest, OversizedBodiesAre413) {
  ServerOptions o;
  o.limits.max_upload_bytes = 3000;
  o.limits.max_notes_text = 100;
  start(o);
  // Just under the payload limit: parsed, and the decoded size is what is refused.
  const std::string big(4000 + 60, 'A');
  auto r = post("/api/harmonize", R"({"melody":{"name":"a.mid","data":")" + big + R"("}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_EQ(body_of(r)["field"], "melody.data");
  auto huge = post("/api/harmonize", std::string(200000, ' '));
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->status, 413);
  EXPECT_EQ(huge->get_header_value("Content-Type"), "application/json");
}

TEST_F(StudioServerTest, NoPathTraversal) {
  start();
  auto made = post("/api/compose", "{}");
  const std::string id = body_of(made)["id"];
  for (const std::string& path : std::vector<std::string>{"/api/results/../../../../etc/passwd", "/api/results/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                                 "/api/results/" + id + ".exe", "/api/results/" + id + ".mid/../../x",
                                 "/../../../../etc/passwd", "/api/results/" + id.substr(0, 31) + "g.mid"}) {
    auto r = client().Get(path.c_str());
    ASSERT_TRUE(r) << path;
    EXPECT_TRUE(r->status == 404 || r->status == 400) << path << " -> " << r->status;
    EXPECT_EQ(r->body.find("root:"), std::string::npos);
  }
}

TEST_F(StudioServerTest, AFullPoolAnswers503WithRetryAfter) {
  ServerOptions o;
  o.workers = 1;
  o.queue = 1;
  start(o);
  backend.close_gate();
  auto first = std::async(std::launch::async, [this] { return post("/api/compose", "{}"); });
  backend.wait_entered(1);  // running
  auto second = std::async(std::launch::async, [this] { return post("/api/compose", "{}"); });
  for (int i = 0; i < 1000 && body_of(client().Get("/health"))["waiting"] != 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(body_of(client().Get("/health"))["waiting"], 1);
  auto third = post("/api/harmonize", R"({"notes":"C5"})");
  ASSERT_TRUE(third);
  EXPECT_EQ(third->status, 503);
  EXPECT_EQ(third->get_header_value("Retry-After"), "5");
  EXPECT_NE(body_of(third)["error"].get<std::string>().find("busy"), std::string::npos);
  // Reads are not held up by the generations.
  EXPECT_EQ(client().Get("/api/info")->status, 200);
  backend.open_gate();
  EXPECT_EQ(first.get()->status, 200);
  EXPECT_EQ(second.get()->status, 200);
  EXPECT_EQ(post("/api/compose", "{}")->status, 200);  // room again
}

TEST_F(StudioServerTest, TheStoreEvictsTheOldestResult) {
  ServerOptions o;
  o.store_count = 2;
  start(o);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(body_of(post("/api/compose", "{}"))["id"]);
  auto gone = client().Get(("/api/results/" + ids[0] + ".mid").c_str());
  EXPECT_EQ(gone->status, 404);
  EXPECT_NE(body_of(gone)["error"].get<std::string>().find("evicted"), std::string::npos);
  EXPECT_EQ(client().Get(("/api/results/" + ids[1] + ".mid").c_str())->status, 200);
  EXPECT_EQ(client().Get(("/api/results/" + ids[2] + ".mid").c_str())->status, 200);
}

TEST_F(StudioServerTest, APortInUseIsAClearError) {
  start();
  ServerOptions o;
  o.port = port;
  StudioServer second(backend, o);
  try {
    second.bind();
    ADD_FAILURE();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(port)), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bachgen::serve
