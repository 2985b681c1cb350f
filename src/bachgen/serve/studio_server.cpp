// The studio's HTTP server: routes, answers and the worker pool around a StudioBackend.
#include "bachgen/serve/studio_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <algorithm>
#include <atomic>
#include <future>
#include <thread>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "bachgen/generate/errors.h"
#include "bachgen/io/utf8.h"
#include "bachgen/runtime/build_info.h"
#include "bachgen/serve/job_pool.h"

namespace bachgen::serve {

using nlohmann::json;

namespace {

constexpr const char* kJson = "application/json";
constexpr int kRetryAfterSeconds = 5;

// Answers quote what came in (a path, a field's text): bytes that are not UTF-8 become U+FFFD
// rather than an exception.
void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), kJson);
}

void send_error(httplib::Response& res, int status, const std::string& message, const std::string& field = "") {
  json body = {{"error", io::valid_utf8(message)}};
  if (!field.empty()) body["field"] = field;
  send_json(res, status, body);
}

const std::map<std::string, std::string>& file_types() {
  static const std::map<std::string, std::string> types = {
      {"mid", "audio/midi"}, {"musicxml", "application/vnd.recordare.musicxml+xml"}, {"wav", "audio/wav"}, {"json", kJson}};
  return types;
}

// What a finished job hands back to the waiting request.
struct JobOutcome {
  int status = 200;
  std::string error, field;
  GenerationOutput output;
};

std::string ascii_lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// "localhost:8080" -> "localhost"; "[::1]:8080" -> "[::1]". The name decides (that is what DNS
// rebinding changes); any port is fine, so a tunnel or a port mapping still reaches the studio.
bool host_allowed(const std::string& header, const std::vector<std::string>& names) {
  std::string name = header;
  const size_t colon = header.rfind(':');
  const size_t bracket = header.rfind(']');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) name = header.substr(0, colon);
  return std::find(names.begin(), names.end(), ascii_lower(name)) != names.end();
}

}  // namespace

struct StudioServer::State {
  State(StudioBackend& b, const ServerOptions& o)
      : backend(b), options(o), store(o.store_count, o.store_bytes), pool(o.workers, o.queue) {}

  StudioBackend& backend;
  ServerOptions options;
  ResultStore store;
  JobPool pool;
  httplib::Server http;
  int port = -1;
  std::vector<std::string> host_names;  // what the Host header may name (lower case)
  // stop() against run(): whichever comes second sees the other (docs/studio.md).
  std::atomic<bool> stop_requested{false}, run_entered{false}, run_done{false};

  // Before any body is read: the requests no route should see. Answered here; the connection
  // then closes (one request per connection, below), so a body left unread is never taken
  // for the next request.
  httplib::Server::HandlerResponse screen(const httplib::Request& req, httplib::Response& res) {
    const auto refuse = [&res](int status, const std::string& message) {
      send_error(res, status, message);
      res.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    };
    const size_t hosts = req.get_header_value_count("Host");
    if (hosts != 1 || !host_allowed(req.get_header_value("Host"), host_names)) {
      return refuse(403, hosts == 0 ? "no Host header" : "the Host header names a host this studio does not serve (see --allowed-host)");
    }
    if (req.get_header_value_count("Content-Length") > 1) return refuse(400, "more than one Content-Length header");
    if (req.has_header("Transfer-Encoding")) {
      return refuse(411, "chunked bodies are not taken: send the body with a Content-Length");
    }
    if (req.method == "POST" && req.path.rfind("/api/", 0) == 0) {
      std::string type = req.get_header_value("Content-Type");
      type = type.substr(0, type.find(';'));
      while (!type.empty() && type.back() == ' ') type.pop_back();
      if (ascii_lower(type) != kJson) return refuse(415, "the API takes application/json bodies, not '" + req.get_header_value("Content-Type") + "'");
    }
    return httplib::Server::HandlerResponse::Unhandled;
  }

  // Runs `work` on the pool and answers with the stored result, or the error.
  void generate(const std::string& kind, httplib::Response& res, std::function<GenerationOutput(int worker)> work) {
    auto promise = std::make_shared<std::promise<JobOutcome>>();
    std::future<JobOutcome> done = promise->get_future();
    const bool accepted = pool.try_submit([promise, work = std::move(work)](int worker) {
      JobOutcome outcome;
      try {
        outcome.output = work(worker);
      } catch (const RequestError& e) {
        outcome = {400, e.what(), e.field, {}};
      } catch (const generate::TimeLimitExceeded& e) {
        outcome = {503, e.what(), "", {}};
      } catch (const std::exception& e) {
        outcome = {500, std::string("the generation failed: ") + e.what(), "", {}};
      }
      promise->set_value(std::move(outcome));
    });
    if (!accepted) {
      res.set_header("Retry-After", std::to_string(kRetryAfterSeconds));
      send_error(res, 503, "the studio is busy: " + std::to_string(pool.workers()) + " generation(s) running and " +
                               std::to_string(pool.queue_capacity()) + " waiting; try again in a few seconds");
      return;
    }
    JobOutcome outcome = done.get();
    if (outcome.status != 200) {
      if (outcome.status == 503) res.set_header("Retry-After", std::to_string(kRetryAfterSeconds));
      send_error(res, outcome.status, outcome.error, outcome.field);
      return;
    }
    StoredResult result;
    result.kind = kind;
    result.bars = outcome.output.bars;
    result.steps_per_bar = outcome.output.steps_per_bar;
    result.files = std::move(outcome.output.files);
    result.chorale = std::move(outcome.output.chorale);
    result.files["json"] = outcome.output.notes_json;
    json summary = {{"kind", kind},
                    {"bars", result.bars},
                    {"steps_per_bar", result.steps_per_bar},
                    {"seconds", outcome.output.seconds},
                    {"details", json::parse(outcome.output.details_json)}};
    json files = json::object();
    for (const auto& [extension, bytes] : result.files) files[extension] = "";
    result.summary_json = summary.dump();
    std::string id;
    try {
      id = store.add(std::move(result));
    } catch (const std::length_error& e) {
      send_error(res, 500, e.what());
      return;
    }
    for (auto& [extension, url] : files.items()) url = "/api/results/" + id + "." + extension;
    summary["id"] = id;
    summary["files"] = files;
    send_json(res, 200, summary);
  }

  std::shared_ptr<const StoredResult> find(const std::string& id, httplib::Response& res, const std::string& field) {
    std::shared_ptr<const StoredResult> found = store.get(id);
    if (!found) send_error(res, 404, "no result " + id + " (unknown, or evicted from the store: generate it again)", field);
    return found;
  }

  void routes() {
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) { return screen(req, res); });
    http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
      send_json(res, 200, {{"status", "ok"}, {"running", pool.running()}, {"waiting", pool.waiting()}, {"results", store.count()}});
    });
    http.Get("/api/info", [this](const httplib::Request&, httplib::Response& res) {
      const StudioLimits& l = options.limits;
      json info = json::parse(backend.info_json());
      info["version"] = std::string(runtime::version()) + " (" + runtime::commit() + ")";
      info["limits"] = {{"max_bars", l.max_bars},
                        {"max_notes_text", l.max_notes_text},
                        {"max_upload_bytes", l.max_upload_bytes},
                        {"time_limit_seconds", l.time_limit_seconds},
                        {"workers", pool.workers()},
                        {"queue", pool.queue_capacity()},
                        {"store_count", store.max_count()},
                        {"store_bytes", store.max_bytes()}};
      send_json(res, 200, info);
    });
    http.Post("/api/compose", [this](const httplib::Request& req, httplib::Response& res) {
      ComposeRequest request = parse_compose_request(req.body, options.limits);
      std::shared_ptr<const StoredResult> primer;
      if (!request.primer_result.empty() && !(primer = find(request.primer_result, res, "primer.result"))) return;
      const double limit = options.limits.time_limit_seconds;
      generate(request.primer_result.empty() && request.primer_file.empty() ? "compose" : "continue", res,
               [this, request, primer, limit](int worker) { return backend.compose(request, primer.get(), worker, limit); });
    });
    http.Post("/api/harmonize", [this](const httplib::Request& req, httplib::Response& res) {
      HarmonizeRequest request = parse_harmonize_request(req.body, options.limits);
      const double limit = options.limits.time_limit_seconds;
      generate("harmonize", res, [this, request, limit](int worker) { return backend.harmonize(request, worker, limit); });
    });
    http.Post("/api/infill", [this](const httplib::Request& req, httplib::Response& res) {
      InfillRequest request = parse_infill_request(req.body, options.limits);
      std::shared_ptr<const StoredResult> source = find(request.result, res, "result");
      if (!source) return;
      if (request.last_bar > source->bars) {
        throw RequestError("bars", "the result has " + std::to_string(source->bars) + " bar(s); bars [" +
                                       std::to_string(request.first_bar) + ", " + std::to_string(request.last_bar) + "] do not fit");
      }
      const double limit = options.limits.time_limit_seconds;
      generate("infill", res, [this, request, source, limit](int worker) { return backend.infill(request, *source, worker, limit); });
    });
    http.Get(R"(/api/results/([0-9a-f]{32})\.(mid|musicxml|wav|json))", [this](const httplib::Request& req, httplib::Response& res) {
      std::shared_ptr<const StoredResult> result = find(req.matches[1], res, "");
      if (!result) return;
      const std::string extension = req.matches[2];
      auto file = result->files.find(extension);
      if (file == result->files.end()) {
        send_error(res, 404, "result " + result->id + " has no ." + extension + " file");
        return;
      }
      res.set_content(file->second.data(), file->second.size(), file_types().at(extension).c_str());
      if (req.has_param("download")) {
        res.set_header("Content-Disposition", "attachment; filename=\"bachgen-" + result->kind + "-" + result->id.substr(0, 8) + "." + extension + "\"");
      }
    });
    size_t count = 0;
    const WebAsset* assets = web_assets(&count);
    for (size_t i = 0; i < count; ++i) {
      const WebAsset asset = assets[i];
      const auto serve_asset = [asset](const httplib::Request&, httplib::Response& res) {
        res.set_content(reinterpret_cast<const char*>(asset.data), asset.size, asset.content_type);
        res.set_header("Cache-Control", "no-cache");
      };
      http.Get(asset.path, serve_asset);
      if (std::string(asset.path) == "/index.html") http.Get("/", serve_asset);
    }
    http.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
      // The page loads nothing from elsewhere; say so, so a browser refuses it too.
      res.set_header("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:");
      res.set_header("X-Content-Type-Options", "nosniff");
    });
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
      try {
        std::rethrow_exception(error);
      } catch (const RequestError& e) {
        send_error(res, 400, e.what(), e.field);
      } catch (const std::exception& e) {
        send_error(res, 500, std::string("internal error: ") + e.what());
      } catch (...) {
        send_error(res, 500, "internal error");
      }
    });
    http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      // Outside httplib's exception guard: nothing here may throw (send_json never does).
      if (!res.body.empty()) return;  // a route's own answer
      if (res.status == 404) {
        send_error(res, 404, "no such route: " + req.method + " " + req.path);
      } else if (res.status == 413) {
        send_error(res, 413, "the request body is too large");
      } else if (res.status == 405) {
        send_error(res, 405, "method " + req.method + " is not allowed on " + req.path);
      } else {
        send_error(res, res.status, "HTTP error " + std::to_string(res.status));
      }
    });
    if (options.log_requests) {
      http.set_logger([](const httplib::Request& req, const httplib::Response& res) {
        std::fprintf(stderr, "%s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
      });
    }
    // Uploads of max_upload_bytes arrive as base64 (4/3 of it) inside a JSON body.
    http.set_payload_max_length(options.limits.max_upload_bytes / 3 * 4 + options.limits.max_notes_text + (64 << 10));
    http.set_read_timeout(30, 0);
    // One request per connection: httplib 0.11 keeps a connection open after an answer with
    // "Connection: close", so a refused request's unread body (a chunked one, one after two
    // Content-Lengths, a cross-site text/plain one) would be read as the next request.
    // Reconnecting on loopback costs tens of microseconds.
    http.set_keep_alive_max_count(1);
    // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let a second studio
    // bind the same port silently and take half of the connections.
    http.set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    const int threads = options.http_threads;
    http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  }
};

StudioServer::StudioServer(StudioBackend& backend, const ServerOptions& options)
    : state_(std::make_unique<State>(backend, options)) {
  if (options.http_threads < 2) throw std::invalid_argument("the server needs at least 2 HTTP threads");
  state_->routes();
}

StudioServer::~StudioServer() { stop(); }

int StudioServer::bind() {
  State& s = *state_;
  s.host_names = {"localhost", "127.0.0.1", "[::1]"};
  const std::string bound = s.options.host.find(':') != std::string::npos && s.options.host.front() != '[' ? "[" + s.options.host + "]" : s.options.host;
  s.host_names.push_back(bound);
  for (const std::string& name : s.options.allowed_hosts) s.host_names.push_back(ascii_lower(name));
  s.port = s.options.port == 0 ? s.http.bind_to_any_port(s.options.host) : (s.http.bind_to_port(s.options.host, s.options.port) ? s.options.port : -1);
  if (s.port < 0) {
    throw std::runtime_error("cannot listen on " + s.options.host + ":" + std::to_string(s.options.port) +
                             " (in use, or not an address of this machine): try --port");
  }
  return s.port;
}

void StudioServer::run() {
  State& s = *state_;
  if (s.port < 0) bind();
  s.run_entered = true;
  if (!s.stop_requested) s.http.listen_after_bind();
  s.run_done = true;
}

void StudioServer::stop() {
  State& s = *state_;
  s.stop_requested = true;
  // httplib's stop() does nothing until its listen loop has begun: a stop that comes between
  // bind() and that moment would leave run() in accept() for ever. So: if run() has been
  // entered, stop it once its loop runs (or until it returns); if not, it will see the request.
  if (!s.run_entered) return;
  while (!s.run_done) {
    if (s.http.is_running()) s.http.stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

const ResultStore& StudioServer::store() const { return state_->store; }

}  // namespace bachgen::serve
