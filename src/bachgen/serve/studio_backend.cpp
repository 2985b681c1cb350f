// The studio's backend over the generation commands.
#include "bachgen/serve/studio_backend.h"

#include <atomic>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "bachgen/generate/command_errors.h"
#include "bachgen/generate/generate_command.h"
#include "bachgen/generate/harmonize_command.h"
#include "bachgen/io/files.h"
#include "bachgen/model/model_file.h"

namespace bachgen::serve {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// A job's private folder, removed with everything in it when the job ends.
class JobFolder {
 public:
  explicit JobFolder(const fs::path& base) {
    static std::atomic<uint64_t> counter{0};
    path_ = base / ("job-" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~JobFolder() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

std::string read_whole(const std::string& path) {
  const std::vector<uint8_t> bytes = io::read_file_bytes(path, 256u << 20);
  return std::string(bytes.begin(), bytes.end());
}

// The user never sees our temp folder: messages name the upload, or "the result".
std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); !from.empty() && at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// A command's message for the page: without its "--option VALUE: " lead, which names a flag
// the page does not have.
std::string without_flag(const std::string& message) {
  if (message.rfind("--", 0) != 0) return message;
  const size_t colon = message.find(": ");
  return colon == std::string::npos ? message : message.substr(colon + 2);
}

// The API field a command option came from.
std::string field_of(const std::string& option) {
  if (option == "input") return "result";
  return option;
}

generate::SamplingOptions sampling_of(const SamplingFields& f) {
  generate::SamplingOptions s;
  s.temperature = f.temperature;
  s.top_k = f.top_k;
  s.top_p = f.top_p;
  return s;
}

json describe(const model::LoadedModel& loaded, const std::string& path) {
  return {{"path", path}, {"kind", loaded.spec.kind}, {"vocab", loaded.spec.vocab}, {"shape", model::spec_shape(loaded.spec)}};
}

class ModelBackend : public StudioBackend {
 public:
  explicit ModelBackend(const ModelBackendOptions& o) : options_(o) {
    if (o.audio != "wav" && o.audio != "none") throw std::runtime_error("the studio's audio is wav or none, not " + o.audio);
    compose_path_ = generate::resolve_model(o.compose_model, "jsb-default");
    infill_path_ = generate::resolve_model(o.infill_model, "jsb-infill");
    const model::LoadedModel compose = model::load_model(compose_path_);
    if (compose.spec.kind == "chorale-infill" || compose.spec.vocab == "performance388") {
      throw std::runtime_error("--model " + compose_path_ + ": the studio composes chorales left to right: it needs a satb16 next-token model, not a " +
                               compose.spec.kind + " over " + compose.spec.vocab);
    }
    const model::LoadedModel infill = model::load_model(infill_path_, "satb16");
    if (infill.spec.kind != "chorale-infill") {
      throw std::runtime_error("--infill-model " + infill_path_ + ": not a conditioning model (chorale-infill)");
    }
    info_ = {{"models", {{"compose", describe(compose, compose_path_)}, {"harmonize", describe(infill, infill_path_)}}},
             {"vocab", compose.spec.vocab},
             {"audio", o.audio}};
    char pattern[] = "/tmp/bachgen-serve-XXXXXX";
    if (!mkdtemp(pattern)) throw std::runtime_error("cannot make a temp folder under /tmp for the studio's jobs");
    base_ = pattern;
  }
  ~ModelBackend() override {
    std::error_code ignored;
    fs::remove_all(base_, ignored);
  }

  std::string info_json() const override { return info_.dump(); }

  GenerationOutput compose(const ComposeRequest& r, const StoredResult* primer, int, double time_limit) override {
    JobFolder job(base_);
    generate::GenerateSettings s;
    s.model = compose_path_;
    s.sampling = sampling_of(r.sampling);
    s.seed = r.sampling.seed;
    s.voice_leading = r.sampling.voice_leading;
    s.bars = r.bars;
    s.tempo = r.tempo;
    s.key = r.key;
    s.audio = options_.audio;
    s.soundfont = options_.soundfont;
    s.time_limit_seconds = time_limit;
    s.out = job.file("result");
    std::string primer_name;
    if (primer != nullptr || !r.primer_file.empty()) {
      s.primer = job.file("primer.mid");
      io::write_file_atomically(s.primer, primer != nullptr ? primer->files.at("mid") : r.primer_file.bytes);
      s.primer_steps = r.primer_steps;
      primer_name = primer != nullptr ? "the result " + primer->id : r.primer_file.name;
    }
    try {
      const generate::GenerateReport report = generate::run_generate(s);
      const json details = {{"new_tokens", report.new_tokens},
                            {"tokens_per_second", report.tokens_per_second},
                            {"voice_leading_fallbacks", report.voice_leading_fallbacks}};
      return collect(job, report.grids.at(0), report.output, report.seconds, details);
    } catch (const generate::OptionError& e) {
      throw RequestError(field_of(e.option), without_flag(replace_all(e.what(), s.primer, primer_name)));
    }
  }

  GenerationOutput harmonize(const HarmonizeRequest& r, int, double time_limit) override {
    JobFolder job(base_);
    generate::HarmonizeSettings s;
    fill_common(s.common, r.sampling, job, time_limit);
    s.common.tempo = r.tempo;
    s.notes = r.notes;
    s.max_steps = static_cast<size_t>(options_.max_bars * 16);
    if (!r.melody.empty()) {
      s.melody = job.file("melody." + r.melody.format);  // the reader goes by the extension
      io::write_file_atomically(s.melody, r.melody.bytes);
    }
    try {
      const generate::InfillReport report = generate::run_harmonize(s);
      return collect(job, report.grids.at(0), report.output, report.seconds, infill_details(report));
    } catch (const generate::OptionError& e) {
      throw RequestError(field_of(e.option), without_flag(replace_all(e.what(), s.melody, r.melody.name)));
    }
  }

  GenerationOutput infill(const InfillRequest& r, const StoredResult& source, int, double time_limit) override {
    JobFolder job(base_);
    generate::InfillSettings s;
    fill_common(s.common, r.sampling, job, time_limit);
    s.input = job.file("input.mid");
    io::write_file_atomically(s.input, source.files.at("mid"));
    s.bars = std::to_string(r.first_bar) + "-" + std::to_string(r.last_bar);
    s.voices = r.voices;
    try {
      const generate::InfillReport report = generate::run_infill(s);
      return collect(job, report.grids.at(0), report.output, report.seconds, infill_details(report));
    } catch (const generate::OptionError& e) {
      throw RequestError(field_of(e.option), without_flag(replace_all(e.what(), s.input, "the result " + source.id)));
    }
  }

 private:
  void fill_common(generate::InfillCommonSettings& c, const SamplingFields& f, const JobFolder& job, double time_limit) const {
    c.model = infill_path_;
    c.sampling = sampling_of(f);
    c.seed = f.seed;
    c.voice_leading = f.voice_leading;
    c.audio = options_.audio;
    c.soundfont = options_.soundfont;
    c.time_limit_seconds = time_limit;
    c.out = job.file("result");
  }

  static json infill_details(const generate::InfillReport& report) {
    return {{"variables", report.variables}, {"voice_leading_fallbacks", report.fallbacks}};
  }

  GenerationOutput collect(const JobFolder& job, const music::ChoraleGrid& grid, const generate::ChoraleOutputOptions& output,
                           double seconds, const json& details) const {
    GenerationOutput out;
    out.files["mid"] = read_whole(job.file("result.mid"));
    out.files["musicxml"] = read_whole(job.file("result.musicxml"));
    if (options_.audio == "wav") out.files["wav"] = read_whole(job.file("result.wav"));
    out.notes_json = notes_json(grid, output.steps_per_bar, output.lead_rests, output.tempo);
    const int64_t steps = static_cast<int64_t>(grid.steps()) + output.lead_rests;
    out.steps_per_bar = output.steps_per_bar;
    out.bars = (steps + output.steps_per_bar - 1) / output.steps_per_bar;
    out.seconds = seconds;
    out.details_json = details.dump();
    return out;
  }

  ModelBackendOptions options_;
  std::string compose_path_, infill_path_;
  json info_;
  fs::path base_;
};

}  // namespace

std::unique_ptr<StudioBackend> make_model_backend(const ModelBackendOptions& options) {
  return std::make_unique<ModelBackend>(options);
}

}  // namespace bachgen::serve
