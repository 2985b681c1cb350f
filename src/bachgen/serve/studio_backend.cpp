// The studio's backend over the library API.
#include "bachgen/serve/studio_backend.h"

#include <optional>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "bachgen/generate/composer.h"
#include "bachgen/generate/errors.h"
#include "bachgen/generate/harmonizer.h"
#include "bachgen/generate/infill_selection.h"
#include "bachgen/midi/midi_reader.h"
#include "bachgen/music/melody.h"
#include "bachgen/music/score.h"
#include "bachgen/render/audio.h"
#include "bachgen/render/chorale_render.h"
#include "bachgen/render/musicxml.h"

namespace bachgen::serve {

namespace {

using generate::Input;
using generate::InputError;
using nlohmann::json;

// The API field an input of the library API came from.
std::string field_of(Input input) {
  switch (input) {
    case Input::kPrimer: return "primer";
    case Input::kLength: return "bars";
    case Input::kKey: return "key";
    case Input::kMelody: return "melody";
    case Input::kNotes: return "notes";
    case Input::kChorale: return "result";
    case Input::kSelection: return "bars";
    case Input::kModel:
    case Input::kOption: break;
  }
  return "";
}

generate::SamplingOptions sampling_of(const SamplingFields& f) {
  generate::SamplingOptions s;
  s.temperature = f.temperature;
  s.top_k = f.top_k;
  s.top_p = f.top_p;
  return s;
}

json describe(const generate::ModelInfo& m) {
  return {{"path", m.path}, {"kind", model::model_kind_name(m.kind)}, {"vocab", tokenize::vocab_name(m.vocab)}, {"shape", m.shape}};
}

// A four-part MIDI upload as a grid, read from its bytes. Only its first primer_steps are used,
// so a long chorale is a fine primer: taken up to 8 times the studio's bars (max_bars).
music::ChoraleGrid grid_of_midi_upload(const UploadedFile& file, int64_t max_bars) {
  try {
    const midi::MidiFile midi = midi::parse_midi(reinterpret_cast<const uint8_t*>(file.bytes.data()), file.bytes.size(), file.name);
    const music::Score score = music::score_from_midi(midi);
    if (score.voices() != music::kVoices) {
      throw std::runtime_error(file.name + ": has " + std::to_string(score.voices()) + " voices; a primer needs 4 (S, A, T, B)");
    }
    music::GridOptions options;
    options.max_steps = 8 * max_bars * 16;
    return music::score_to_grid(score, options);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw RequestError("primer", what.rfind(file.name, 0) == 0 ? what : file.name + ": " + what);
  }
}

// One pool thread's models, loaded once.
struct Worker {
  generate::Composer composer;
  generate::Harmonizer harmonizer;
  std::unique_ptr<render::Synthesizer> synthesizer;  // null: no audio
};

class ModelBackend : public StudioBackend {
 public:
  explicit ModelBackend(const ModelBackendOptions& o) : options_(o) {
    if (o.audio != "wav" && o.audio != "none") throw std::runtime_error("the studio's audio is wav or none, not " + o.audio);
    for (int w = 0; w < std::max(1, o.workers); ++w) {
      std::optional<generate::Composer> composer;
      try {
        composer.emplace(o.compose_model);
      } catch (const InputError& e) {
        throw std::runtime_error("--model " + std::string(e.what()) + " (the studio composes chorales left to right: it needs a satb16 next-token model)");
      }
      std::optional<generate::Harmonizer> harmonizer;
      try {
        harmonizer.emplace(o.infill_model);
      } catch (const InputError& e) {
        throw std::runtime_error("--infill-model " + std::string(e.what()));
      }
      std::unique_ptr<render::Synthesizer> synthesizer;
      if (o.audio == "wav") {
        render::AudioOptions audio;
        audio.soundfont = o.soundfont;
        synthesizer = std::make_unique<render::Synthesizer>(audio);
      }
      workers_.push_back(std::make_unique<Worker>(Worker{std::move(*composer), std::move(*harmonizer), std::move(synthesizer)}));
    }
    const Worker& first = *workers_.front();
    info_ = {{"models", {{"compose", describe(first.composer.info())}, {"harmonize", describe(first.harmonizer.info())}}},
             {"vocab", tokenize::vocab_name(first.composer.info().vocab)},
             {"audio", o.audio}};
  }

  std::string info_json() const override { return info_.dump(); }

  GenerationOutput compose(const ComposeRequest& r, const StoredResult* primer, int worker, double time_limit) override {
    Worker& w = worker_at(worker);
    generate::ComposeOptions o;
    o.sampling = sampling_of(r.sampling);
    o.seed = r.sampling.seed;
    o.voice_leading = r.sampling.voice_leading;
    o.steps = r.bars * 16;
    o.bars = r.bars;  // a composer with conditions writes exactly these bars, its pickup included
    o.tempo = r.tempo;
    o.primer_steps = r.primer_steps;
    o.time_limit_seconds = time_limit;
    if (!r.key.empty()) {
      try {
        o.key = music::parse_key(r.key);
      } catch (const std::invalid_argument& e) {
        throw RequestError("key", e.what());
      }
    }
    std::optional<music::ChoraleGrid> primer_grid;
    if (primer != nullptr) {
      if (!primer->chorale) throw RequestError("primer.result", "the result " + primer->id + " holds no music to continue");
      primer_grid = primer->chorale->written_grid();
    } else if (!r.primer_file.empty()) {
      primer_grid = grid_of_midi_upload(r.primer_file, options_.max_bars);
    }
    generate::ComposeStats stats;
    std::vector<generate::Composition> pieces;
    try {
      pieces = w.composer.compose(o, primer_grid ? &*primer_grid : nullptr, &stats);
    } catch (const InputError& e) {
      throw RequestError(field_of(e.input), e.what());
    }
    const json details = {{"new_tokens", stats.new_tokens},
                          {"tokens_per_second", stats.tokens_per_second()},
                          {"voice_leading_fallbacks", stats.voice_leading_fallbacks}};
    return output_of(w, pieces.at(0).chorale, stats.seconds, details);
  }

  GenerationOutput harmonize(const HarmonizeRequest& r, int worker, double time_limit) override {
    Worker& w = worker_at(worker);
    const bool from_text = !r.notes.empty();
    music::Melody melody;
    try {
      if (from_text) {
        melody = music::parse_melody_text(r.notes);
      } else {
        const music::MelodyFormat format = r.melody.format == "mid" ? music::MelodyFormat::kMidi
                                           : r.melody.format == "mxl" ? music::MelodyFormat::kMxl
                                                                      : music::MelodyFormat::kMusicXml;
        melody = music::parse_melody(std::vector<uint8_t>(r.melody.bytes.begin(), r.melody.bytes.end()), format, r.melody.name);
      }
    } catch (const std::exception& e) {
      throw RequestError(from_text ? "notes" : "melody", e.what());
    }
    generate::HarmonizeOptions o = options_of(r.sampling, r.sampler, time_limit);
    o.transpose_auto = r.transpose_auto;
    o.tempo = r.tempo;
    o.max_steps = static_cast<size_t>(options_.max_bars * 16);
    generate::HarmonizeStats stats;
    music::Chorale result;
    try {
      result = w.harmonizer.harmonize(melody, o, &stats, from_text ? Input::kNotes : Input::kMelody,
                                      from_text ? "the note text" : r.melody.name);
    } catch (const InputError& e) {
      throw RequestError(field_of(e.input), e.what());
    }
    return output_of(w, result, stats.seconds, details_of(stats));
  }

  GenerationOutput infill(const InfillRequest& r, const StoredResult& source, int worker, double time_limit) override {
    Worker& w = worker_at(worker);
    if (!source.chorale) throw RequestError("result", "the result " + source.id + " holds no music to redraw");
    generate::Selection selection;
    selection.first_bar = r.first_bar;
    selection.last_bar = r.last_bar;
    selection.voices = generate::parse_voices(r.voices);  // checked by the request parser
    if (r.last_bar > source.chorale->bars()) {
      throw RequestError("bars", "the result " + source.id + " has " + std::to_string(source.chorale->bars()) + " bar(s)");
    }
    generate::HarmonizeStats stats;
    music::Chorale result;
    try {
      result = w.harmonizer.redraw(*source.chorale, selection, options_of(r.sampling, r.sampler, time_limit), &stats);
    } catch (const InputError& e) {
      throw RequestError(field_of(e.input), e.what());
    }
    return output_of(w, result, stats.seconds, details_of(stats));
  }

 private:
  Worker& worker_at(int worker) {
    if (worker < 0 || static_cast<size_t>(worker) >= workers_.size()) {
      throw std::logic_error("the pool has more workers than the backend loaded models for");
    }
    return *workers_[static_cast<size_t>(worker)];
  }

  static generate::HarmonizeOptions options_of(const SamplingFields& f, const SamplerFields& sampler, double time_limit) {
    generate::HarmonizeOptions o;
    if (!sampler.sampler.empty()) o.sampler = generate::parse_infill_sampler(sampler.sampler);
    o.iterations = sampler.iterations;
    if (sampler.final_temperature >= 0) o.final_temperature = sampler.final_temperature;
    if (sampler.hold_temperature >= 0) o.hold_temperature = sampler.hold_temperature;
    if (!sampler.rhythm.empty()) o.rhythm_steps = sampler.rhythm == "eighths" ? 2 : 1;
    if (!sampler.cadence.empty()) o.tonic_cadence = sampler.cadence == "tonic";
    if (sampler.candidates > 0) o.candidates = sampler.candidates;
    if (!sampler.critic.empty()) o.critic = generate::parse_critic(sampler.critic);
    o.sampling = sampling_of(f);
    o.seed = f.seed;
    o.voice_leading = f.voice_leading;
    o.time_limit_seconds = time_limit;
    return o;
  }

  static json details_of(const generate::HarmonizeStats& stats) {
    json d = {{"variables", stats.variables}, {"held_by_rhythm", stats.held}, {"voice_leading_fallbacks", stats.fallbacks}, {"cadence", stats.cadence},
              {"key", stats.key}, {"precision", stats.bf16 ? "bf16" : "fp32"},
              {"candidates", stats.candidates}, {"chosen_candidate", stats.chosen + 1}};
    if (stats.melody_moved != 0) d["melody_moved_semitones"] = stats.melody_moved, d["moved_back"] = stats.moved_back;
    return d;
  }

  GenerationOutput output_of(Worker& w, const music::Chorale& chorale, double seconds, const json& details) const {
    GenerationOutput out;
    out.files["mid"] = render::chorale_midi(chorale);
    out.files["musicxml"] = render::chorale_musicxml(chorale, "result");
    out.files["hymnal.musicxml"] = render::to_musicxml(chorale, "result", render::Staves::kTwo);
    if (w.synthesizer) out.files["wav"] = render::encode_audio(w.synthesizer->render(out.files["mid"]), render::AudioFormat::kWav);
    out.notes_json = render::chorale_notes_json(chorale);
    out.steps_per_bar = chorale.steps_per_bar;
    out.bars = chorale.bars();
    out.seconds = seconds;
    out.details_json = details.dump();
    out.chorale = std::make_shared<const music::Chorale>(chorale);
    return out;
  }

  ModelBackendOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  json info_;
};

}  // namespace

std::unique_ptr<StudioBackend> make_model_backend(const ModelBackendOptions& options) {
  return std::make_unique<ModelBackend>(options);
}

}  // namespace bachgen::serve
