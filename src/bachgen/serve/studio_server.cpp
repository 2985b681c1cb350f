// The studio's HTTP server: routes, answers and the worker pool around a StudioBackend, on GNU
// libmicrohttpd (Debian's libmicrohttpd-dev). Its polling threads own every socket; a request
// is read into memory as it arrives, checked, and answered there, except a generation: its
// connection is suspended while a worker runs it and resumed with the answer (docs/studio.md).
#include "bachgen/serve/studio_server.h"

#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "bachgen/generate/errors.h"
#include "bachgen/io/files.h"
#include "bachgen/io/utf8.h"
#include "bachgen/runtime/build_info.h"
#include "bachgen/serve/job_pool.h"

namespace bachgen::serve {

using nlohmann::json;

namespace {

constexpr const char* kJson = "application/json";
constexpr int kRetryAfterSeconds = 5;

// What one request is answered with: an owned body, or bytes that live elsewhere (a page file,
// or a stored result's file, kept alive by `owner` until libmicrohttpd has sent them).
struct Answer {
  int status = 200;
  std::string body;
  std::string type = kJson;
  const char* data = nullptr;
  size_t size = 0;
  std::shared_ptr<const StoredResult> owner;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Answers quote what came in (a path, a field's text): bytes that are not UTF-8 become U+FFFD
// rather than an exception.
Answer json_answer(int status, const json& body) {
  Answer a;
  a.status = status;
  a.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return a;
}

Answer error_answer(int status, const std::string& message, const std::string& field = "") {
  json body = {{"error", io::valid_utf8(message)}};
  if (!field.empty()) body["field"] = field;
  return json_answer(status, body);
}

Answer busy_answer(const JobPool& pool, const std::string& why) {
  Answer a = error_answer(503, why.empty() ? "the studio is busy: " + std::to_string(pool.workers()) + " generation(s) running and " +
                                                 std::to_string(pool.queue_capacity()) + " waiting; try again in a few seconds"
                                           : why);
  a.headers.emplace_back("Retry-After", std::to_string(kRetryAfterSeconds));
  return a;
}

const std::map<std::string, std::string>& file_types() {
  static const std::map<std::string, std::string> types = {
      {"mid", "audio/midi"}, {"musicxml", "application/vnd.recordare.musicxml+xml"},
      {"hymnal.musicxml", "application/vnd.recordare.musicxml+xml"}, {"wav", "audio/wav"}, {"json", kJson}};
  return types;
}

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

// The values of one header (or query argument), as many times as it came.
std::vector<std::string> values_of(MHD_Connection* connection, MHD_ValueKind kind, const char* key) {
  struct Search {
    const char* key;
    std::vector<std::string> found;
  } search{key, {}};
  MHD_get_connection_values(
      connection, kind,
      [](void* cls, MHD_ValueKind, const char* k, const char* v) -> MHD_Result {
        auto* s = static_cast<Search*>(cls);
        if (k != nullptr && strcasecmp(k, s->key) == 0) s->found.emplace_back(v == nullptr ? "" : v);
        return MHD_YES;
      },
      &search);
  return search.found;
}

// A generation in flight: the worker leaves its answer here and resumes the connection.
struct Pending {
  std::mutex mutex;
  MHD_Connection* connection = nullptr;
  bool suspended = false;
  std::optional<Answer> answer;
};

// One request on one connection, from its headers to its answer (libmicrohttpd's per-request
// pointer; freed when the request completes).
struct Exchange {
  std::string method, path;
  std::string body;
  size_t body_limit = 0;
  int status = 0;
  std::shared_ptr<Pending> pending;
};

// What a finished job hands back.
struct JobOutcome {
  int status = 200;
  std::string error, field;
  GenerationOutput output;
};

// The listening socket, made here (not by libmicrohttpd) so bind() can return the port and fail
// with a clear error before anything runs. SO_REUSEADDR only: SO_REUSEPORT would let a second
// studio bind the same port silently and take half of the connections.
int listen_on(const std::string& host, int port, int* bound_port, bool* ipv6) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const std::string name = host.size() > 2 && host.front() == '[' && host.back() == ']' ? host.substr(1, host.size() - 2) : host;
  if (getaddrinfo(name.c_str(), service.c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 128) != 0) {
      ::close(fd);
      fd = -1;
      continue;
    }
    *ipv6 = a->ai_family == AF_INET6;
  }
  freeaddrinfo(found);
  if (fd < 0) return -1;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);  // several polling threads accept from it
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  *bound_port = ntohs(address.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&address)->sin6_port
                                                    : reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  return fd;
}

}  // namespace

struct StudioServer::State {
  State(StudioBackend& b, const ServerOptions& o)
      : backend(b), options(o), store(o.store_count, o.store_bytes), pool(o.workers, o.queue) {}

  StudioBackend& backend;
  ServerOptions options;
  std::string score_library;  // the bytes of options.score_library, when there is one
  ResultStore store;
  JobPool pool;
  int listen_fd = -1;
  bool listen_ipv6 = false;
  int port = -1;
  std::vector<std::string> host_names;  // what the Host header may name (lower case)
  // Uploads of max_upload_bytes arrive as base64 (4/3 of it) inside a JSON body.
  size_t body_limit() const { return options.limits.max_upload_bytes / 3 * 4 + options.limits.max_notes_text + (64 << 10); }

  // run() against stop(), and the generations still to answer when it stops (docs/studio.md).
  std::mutex mutex;
  std::condition_variable changed;
  bool stop_requested = false, run_entered = false, run_done = false;
  int in_flight = 0;

  // --- answering ----------------------------------------------------------------------------

  static void release_owner(void* owner) { delete static_cast<std::shared_ptr<const StoredResult>*>(owner); }

  MHD_Result send(MHD_Connection* connection, Exchange& exchange, Answer answer) {
    MHD_Response* response = nullptr;
    if (answer.owner) {
      response = MHD_create_response_from_buffer_with_free_callback_cls(answer.size, const_cast<char*>(answer.data), &release_owner,
                                                                        new std::shared_ptr<const StoredResult>(answer.owner));
    } else if (answer.data != nullptr) {
      response = MHD_create_response_from_buffer(answer.size, const_cast<char*>(answer.data), MHD_RESPMEM_PERSISTENT);
    } else {
      response = MHD_create_response_from_buffer(answer.body.size(), answer.body.data(), MHD_RESPMEM_MUST_COPY);
    }
    if (response == nullptr) return MHD_NO;  // out of memory: the connection closes
    MHD_add_response_header(response, "Content-Type", answer.type.c_str());
    // The page loads nothing from elsewhere; say so, so a browser refuses it too.
    MHD_add_response_header(response, "Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:");
    MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    // One request per connection: an idle keep-alive connection would hold a slot, and a
    // refused request's unread body is never read as a next request.
    MHD_add_response_header(response, "Connection", "close");
    for (const auto& [name, value] : answer.headers) MHD_add_response_header(response, name.c_str(), value.c_str());
    exchange.status = answer.status;
    const MHD_Result queued = MHD_queue_response(connection, static_cast<unsigned>(answer.status), response);
    MHD_destroy_response(response);
    return queued;
  }

  // --- before any body is read --------------------------------------------------------------

  // The requests no route should see, answered before their body is read (the connection then
  // closes, so a body left unread is never taken for the next request).
  std::optional<Answer> screen(MHD_Connection* connection, const Exchange& exchange) {
    const std::vector<std::string> hosts = values_of(connection, MHD_HEADER_KIND, "Host");
    if (hosts.size() != 1 || !host_allowed(hosts.front(), host_names)) {
      return error_answer(403, hosts.empty() ? "no Host header" : "the Host header names a host this studio does not serve (see --allowed-host)");
    }
    const std::vector<std::string> lengths = values_of(connection, MHD_HEADER_KIND, "Content-Length");
    if (lengths.size() > 1) return error_answer(400, "more than one Content-Length header");
    if (!values_of(connection, MHD_HEADER_KIND, "Transfer-Encoding").empty()) {
      Answer a = error_answer(411, "chunked bodies are not taken: send the body with a Content-Length");
      return a;
    }
    if (exchange.method == "POST" && exchange.path.rfind("/api/", 0) == 0) {
      const std::vector<std::string> types = values_of(connection, MHD_HEADER_KIND, "Content-Type");
      std::string type = types.empty() ? "" : types.front();
      const std::string given = type;
      type = type.substr(0, type.find(';'));
      while (!type.empty() && type.back() == ' ') type.pop_back();
      if (types.size() != 1 || ascii_lower(type) != kJson) return error_answer(415, "the API takes application/json bodies, not '" + given + "'");
    }
    if (!lengths.empty()) {
      const std::string& text = lengths.front();
      const bool digits = !text.empty() && text.size() <= 18 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!digits) return error_answer(400, "the Content-Length is not a number");
      if (std::stoull(text) > exchange.body_limit) return error_answer(413, "the request body is too large");
    }
    return std::nullopt;
  }

  // --- generations --------------------------------------------------------------------------

  // What a worker answers for `work`: the stored result's summary, or the error.
  Answer finish(const std::string& kind, const std::function<GenerationOutput(int)>& work, int worker) {
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
    if (outcome.status == 503) return busy_answer(pool, outcome.error);
    if (outcome.status != 200) return error_answer(outcome.status, outcome.error, outcome.field);
    try {
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
      const std::string id = store.add(std::move(result));
      for (auto& [extension, url] : files.items()) url = "/api/results/" + id + "." + extension;
      summary["id"] = id;
      summary["files"] = files;
      return json_answer(200, summary);
    } catch (const std::exception& e) {
      return error_answer(500, e.what());
    }
  }

  // Runs `work` on the pool; the connection waits, suspended, for its answer.
  MHD_Result generate(MHD_Connection* connection, Exchange& exchange, const std::string& kind, std::function<GenerationOutput(int)> work) {
    auto pending = std::make_shared<Pending>();
    pending->connection = connection;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (stop_requested) return send(connection, exchange, busy_answer(pool, "the studio is stopping"));
      ++in_flight;
    }
    exchange.pending = pending;  // from here the request counts as in flight until it completes
    const bool accepted = pool.try_submit([this, pending, kind, work = std::move(work)](int worker) {
      Answer answer = finish(kind, work, worker);
      bool resume = false;
      {
        std::lock_guard<std::mutex> lock(pending->mutex);
        pending->answer = std::move(answer);
        resume = pending->suspended;
      }
      if (resume) MHD_resume_connection(pending->connection);
    });
    if (!accepted) return send(connection, exchange, busy_answer(pool, ""));
    std::unique_lock<std::mutex> lock(pending->mutex);
    if (pending->answer) {  // done already
      Answer answer = std::move(*pending->answer);
      lock.unlock();
      return send(connection, exchange, std::move(answer));
    }
    MHD_suspend_connection(connection);  // under the lock: the worker resumes only after this
    pending->suspended = true;
    return MHD_YES;
  }

  // --- routes -------------------------------------------------------------------------------

  std::shared_ptr<const StoredResult> find(const std::string& id, const std::string& field, std::optional<Answer>* refusal) {
    std::shared_ptr<const StoredResult> found = store.get(id);
    if (!found) *refusal = error_answer(404, "no result " + id + " (unknown, or evicted from the store: generate it again)", field);
    return found;
  }

  Answer info() {
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
    return json_answer(200, info);
  }

  // "/api/results/<32 hex>.<mid|musicxml|hymnal.musicxml|wav|json>"
  std::optional<Answer> result_file(MHD_Connection* connection, const std::string& path) {
    static const std::string prefix = "/api/results/";
    if (path.rfind(prefix, 0) != 0 || path.size() < prefix.size() + 34) return std::nullopt;
    const std::string id = path.substr(prefix.size(), 32);
    if (!std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) return std::nullopt;
    if (path[prefix.size() + 32] != '.') return std::nullopt;
    const std::string extension = path.substr(prefix.size() + 33);
    if (!file_types().count(extension)) return std::nullopt;
    std::optional<Answer> refusal;
    std::shared_ptr<const StoredResult> result = find(id, "", &refusal);
    if (!result) return refusal;
    auto file = result->files.find(extension);
    if (file == result->files.end()) return error_answer(404, "result " + result->id + " has no ." + extension + " file");
    Answer a;
    a.type = file_types().at(extension);
    a.data = file->second.data();
    a.size = file->second.size();
    a.owner = result;
    if (!values_of(connection, MHD_GET_ARGUMENT_KIND, "download").empty()) {
      a.headers.emplace_back("Content-Disposition",
                             "attachment; filename=\"bachgen-" + result->kind + "-" + result->id.substr(0, 8) + "." + extension + "\"");
    }
    return a;
  }

  std::optional<Answer> page_file(const std::string& path) {
    if (path == "/vendor/opensheetmusicdisplay.min.js" && !score_library.empty()) {
      Answer a;
      a.type = "text/javascript; charset=utf-8";
      a.data = score_library.data();
      a.size = score_library.size();
      a.headers.emplace_back("Cache-Control", "max-age=86400");
      return a;
    }
    size_t count = 0;
    const WebAsset* assets = web_assets(&count);
    const std::string wanted = path == "/" ? "/index.html" : path;
    for (size_t i = 0; i < count; ++i) {
      if (wanted != assets[i].path) continue;
      Answer a;
      a.type = assets[i].content_type;
      a.data = reinterpret_cast<const char*>(assets[i].data);
      a.size = assets[i].size;
      a.headers.emplace_back("Cache-Control", "no-cache");
      return a;
    }
    return std::nullopt;
  }

  // The whole request is in: route it. Throws RequestError for a bad body (400).
  MHD_Result route(MHD_Connection* connection, Exchange& exchange) {
    const std::string& path = exchange.path;
    const bool get = exchange.method == "GET" || exchange.method == "HEAD";
    if (get && path == "/health") {
      return send(connection, exchange,
                  json_answer(200, {{"status", "ok"}, {"running", pool.running()}, {"waiting", pool.waiting()}, {"results", store.count()}}));
    }
    if (get && path == "/api/info") return send(connection, exchange, info());
    if (exchange.method == "POST" && path == "/api/compose") {
      ComposeRequest request = parse_compose_request(exchange.body, options.limits);
      std::shared_ptr<const StoredResult> primer;
      std::optional<Answer> refusal;
      if (!request.primer_result.empty() && !(primer = find(request.primer_result, "primer.result", &refusal))) {
        return send(connection, exchange, std::move(*refusal));
      }
      const double limit = options.limits.time_limit_seconds;
      return generate(connection, exchange, request.primer_result.empty() && request.primer_file.empty() ? "compose" : "continue",
                      [this, request, primer, limit](int worker) { return backend.compose(request, primer.get(), worker, limit); });
    }
    if (exchange.method == "POST" && path == "/api/harmonize") {
      HarmonizeRequest request = parse_harmonize_request(exchange.body, options.limits);
      const double limit = options.limits.time_limit_seconds;
      return generate(connection, exchange, "harmonize", [this, request, limit](int worker) { return backend.harmonize(request, worker, limit); });
    }
    if (exchange.method == "POST" && path == "/api/infill") {
      InfillRequest request = parse_infill_request(exchange.body, options.limits);
      std::optional<Answer> refusal;
      std::shared_ptr<const StoredResult> source = find(request.result, "result", &refusal);
      if (!source) return send(connection, exchange, std::move(*refusal));
      if (request.last_bar > source->bars) {
        throw RequestError("bars", "the result has " + std::to_string(source->bars) + " bar(s); bars [" +
                                       std::to_string(request.first_bar) + ", " + std::to_string(request.last_bar) + "] do not fit");
      }
      const double limit = options.limits.time_limit_seconds;
      return generate(connection, exchange, "infill",
                      [this, request, source, limit](int worker) { return backend.infill(request, *source, worker, limit); });
    }
    if (get) {
      if (std::optional<Answer> file = result_file(connection, path)) return send(connection, exchange, std::move(*file));
      if (std::optional<Answer> file = page_file(path)) return send(connection, exchange, std::move(*file));
    }
    return send(connection, exchange, error_answer(404, "no such route: " + exchange.method + " " + path));
  }

  // libmicrohttpd calls this once the headers are in, once per piece of the body, once the body
  // is complete, and once more after a suspended generation is resumed.
  MHD_Result handle(MHD_Connection* connection, const char* url, const char* method, const char* upload, size_t* upload_size, void** slot) {
    auto* exchange = static_cast<Exchange*>(*slot);
    try {
      if (exchange == nullptr) {
        exchange = new Exchange;
        *slot = exchange;
        exchange->method = method;
        exchange->path = url;
        exchange->body_limit = body_limit();
        if (std::optional<Answer> refusal = screen(connection, *exchange)) return send(connection, *exchange, std::move(*refusal));
        return MHD_YES;
      }
      if (exchange->pending) {  // resumed: the worker's answer is there
        std::unique_lock<std::mutex> lock(exchange->pending->mutex);
        Answer answer = std::move(*exchange->pending->answer);
        lock.unlock();
        return send(connection, *exchange, std::move(answer));
      }
      if (*upload_size > 0) {
        if (exchange->body.size() + *upload_size > exchange->body_limit) return MHD_NO;  // past its Content-Length's check: drop it
        exchange->body.append(upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
      }
      return route(connection, *exchange);
    } catch (const RequestError& e) {
      return send(connection, *exchange, error_answer(400, e.what(), e.field));
    } catch (const std::exception& e) {
      return send(connection, *exchange, error_answer(500, std::string("internal error: ") + e.what()));
    } catch (...) {
      return send(connection, *exchange, error_answer(500, "internal error"));
    }
  }

  void completed(Exchange* exchange) {
    if (exchange == nullptr) return;
    if (options.log_requests) std::fprintf(stderr, "%s %s %d\n", exchange->method.c_str(), io::valid_utf8(exchange->path).c_str(), exchange->status);
    if (exchange->pending) {
      std::lock_guard<std::mutex> lock(mutex);
      --in_flight;
      changed.notify_all();
    }
    delete exchange;
  }

  static MHD_Result on_request(void* cls, MHD_Connection* connection, const char* url, const char* method, const char*,
                               const char* upload, size_t* upload_size, void** slot) {
    return static_cast<State*>(cls)->handle(connection, url, method, upload, upload_size, slot);
  }
  static void on_completed(void* cls, MHD_Connection*, void** slot, MHD_RequestTerminationCode) {
    static_cast<State*>(cls)->completed(static_cast<Exchange*>(*slot));
    *slot = nullptr;
  }
  static void on_log(void* cls, const char* format, va_list arguments) {
    if (!static_cast<State*>(cls)->options.log_requests) return;
    std::fputs("bachgen serve: ", stderr);
    std::vfprintf(stderr, format, arguments);
  }

  // --- the daemon ---------------------------------------------------------------------------

  MHD_Daemon* start_daemon() {
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (listen_ipv6) flags |= MHD_USE_IPv6;
    const unsigned threads = static_cast<unsigned>(options.http_threads);
    MHD_OptionItem settings[] = {
        {MHD_OPTION_LISTEN_SOCKET, listen_fd, nullptr},
        {MHD_OPTION_CONNECTION_LIMIT, static_cast<intptr_t>(options.max_connections), nullptr},
        {MHD_OPTION_CONNECTION_TIMEOUT, static_cast<intptr_t>(options.idle_timeout_seconds), nullptr},
        {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&on_completed), this},
        {MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&on_log), this},
        {threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, static_cast<intptr_t>(threads), nullptr},
        {MHD_OPTION_END, 0, nullptr}};
    return MHD_start_daemon(flags, 0, nullptr, nullptr, &on_request, this, MHD_OPTION_ARRAY, settings, MHD_OPTION_END);
  }
};

StudioServer::StudioServer(StudioBackend& backend, const ServerOptions& options)
    : state_(std::make_unique<State>(backend, options)) {
  if (options.http_threads < 1) throw std::invalid_argument("the server needs at least 1 HTTP thread");
  if (options.max_connections < 1) throw std::invalid_argument("the server needs room for at least 1 connection");
  if (options.idle_timeout_seconds < 1) throw std::invalid_argument("the idle timeout must be at least 1 second");
  if (!options.score_library.empty()) {
    const std::vector<uint8_t> bytes = io::read_file_bytes(options.score_library, size_t{16} << 20);
    state_->score_library.assign(bytes.begin(), bytes.end());
  }
}

std::string find_score_library() {
  const std::string root = runtime::resource_dir();
  if (root.empty()) return "";
  for (const std::string& path : {root + "/web/vendor/opensheetmusicdisplay.min.js",
                                  root + "/web/node_modules/opensheetmusicdisplay/build/opensheetmusicdisplay.min.js"}) {
    if (io::is_regular_file(path)) return path;
  }
  return "";
}

StudioServer::~StudioServer() {
  stop();
  if (state_->listen_fd >= 0) ::close(state_->listen_fd);
}

int StudioServer::bind() {
  State& s = *state_;
  s.host_names = {"localhost", "127.0.0.1", "[::1]"};
  const std::string bound = s.options.host.find(':') != std::string::npos && s.options.host.front() != '[' ? "[" + s.options.host + "]" : s.options.host;
  s.host_names.push_back(ascii_lower(bound));
  for (const std::string& name : s.options.allowed_hosts) s.host_names.push_back(ascii_lower(name));
  if (s.listen_fd >= 0) return s.port;
  s.listen_fd = listen_on(s.options.host, s.options.port, &s.port, &s.listen_ipv6);
  if (s.listen_fd < 0) {
    throw std::runtime_error("cannot listen on " + s.options.host + ":" + std::to_string(s.options.port) +
                             " (in use, or not an address of this machine): try --port");
  }
  return s.port;
}

void StudioServer::run() {
  State& s = *state_;
  if (s.listen_fd < 0) bind();
  std::unique_lock<std::mutex> lock(s.mutex);
  s.run_entered = true;
  MHD_Daemon* daemon = nullptr;
  if (!s.stop_requested) {
    lock.unlock();
    daemon = s.start_daemon();
    lock.lock();
    if (daemon == nullptr) {
      s.run_done = true;
      s.changed.notify_all();
      throw std::runtime_error("the HTTP server did not start (libmicrohttpd refused its settings)");
    }
    s.changed.wait(lock, [&s] { return s.stop_requested; });
    // No new connections; the generations in flight still get their answers (each within its
    // time limit). A suspended connection must be resumed before the daemon stops.
    // Quiesced, the listening socket is ours again (closed by the destructor); if not, the
    // daemon closes it.
    if (MHD_quiesce_daemon(daemon) == MHD_INVALID_SOCKET) s.listen_fd = -1;
    s.changed.wait(lock, [&s] { return s.in_flight == 0; });
    lock.unlock();
    MHD_stop_daemon(daemon);
    lock.lock();
  }
  s.run_done = true;
  s.changed.notify_all();
}

void StudioServer::stop() {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mutex);
  s.stop_requested = true;
  s.changed.notify_all();
  // run() not entered yet: it will see the request and return at once.
  if (s.run_entered) s.changed.wait(lock, [&s] { return s.run_done; });
}

const ResultStore& StudioServer::store() const { return state_->store; }

}  // namespace bachgen::serve
