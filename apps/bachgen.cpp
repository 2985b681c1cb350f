// bachgen: the command-line program. Each subcommand has one settings struct whose defaults
// are what `--help` prints; the work itself lives in the library.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bachgen/data/prepare.h"
#include "bachgen/commands/generate_command.h"
#include "bachgen/commands/harmonize_command.h"
#include "bachgen/io/files.h"
#include "bachgen/midi/midi_reader.h"
#include "bachgen/midi/midi_summary.h"
#include "bachgen/commands/attention_report.h"
#include "bachgen/commands/model_commands.h"
#include "bachgen/commands/analyze_command.h"
#include "bachgen/commands/inspect_command.h"
#include "bachgen/commands/convert_command.h"
#include "bachgen/runtime/allocator.h"
#include "bachgen/runtime/build_info.h"
#include "bachgen/runtime/cpu_features.h"
#include "bachgen/runtime/torch_runtime.h"
#include "bachgen/commands/serve_command.h"
#include "bachgen/commands/eval_command.h"
#include "bachgen/train/distributed.h"
#include "bachgen/train/trainer.h"

namespace {

using namespace bachgen;

// ---------------------------------------------------------------------------------------------
// Settings

struct GlobalSettings {
  int threads = 0;  // LibTorch intra-op threads; 0 = every core
  bool version = false;
};

// `bachgen prepare` binds its flags straight to the library's data::PrepareSettings.

// Options several commands share.
void add_sampling_options(CLI::App* cmd, generate::SamplingOptions& sampling, uint64_t& seed) {
  cmd->add_option("--temperature", sampling.temperature, "Sampling temperature (0 = greedy)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-k", sampling.top_k, "Keep the K most probable tokens (0 = all)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", sampling.top_p, "Nucleus: keep the fewest tokens with probability >= P")
      ->capture_default_str()
      ->check(CLI::Range(1e-9, 1.0));
  cmd->add_option("--seed", seed, "Seed of the sampler")->capture_default_str();
}

void add_voice_leading_option(CLI::App* cmd, std::string& voice_leading) {
  cmd->add_option("--voice-leading", voice_leading,
                  "Chorales: strict masks parallel fifths/octaves, crossings and leaps over an octave; off")
      ->capture_default_str()
      ->check(CLI::IsMember({"strict", "off"}));
}

void add_audio_options(CLI::App* cmd, std::string& audio, std::string& soundfont) {
  cmd->add_option("--audio", audio, "Audio beside the MIDI file, through FluidSynth: wav | flac | none")
      ->capture_default_str()
      ->check(CLI::IsMember({"wav", "flac", "none"}));
  cmd->add_option("--soundfont", soundfont, "A General MIDI .sf2 (default: $BACHGEN_SOUNDFONT, else Debian's TimGM6mb)");
}

void add_infill_options(CLI::App* cmd, commands::InfillCommonSettings& c) {
  cmd->add_option("--model", c.model, "A conditioning model file, or a bundled model's name (default: jsb-harmonize)");
  add_sampling_options(cmd, c.sampling, c.seed);
  cmd->add_option("--count", c.count, "Results: NAME, or NAME-1 ... NAME-N with seeds SEED, SEED+1, ...")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--sampler", c.sampler, "ancestral (orderless, one draw per variable) | gibbs (Coconet's annealed blocked Gibbs)")
      ->capture_default_str()
      ->check(CLI::IsMember({"ancestral", "gibbs"}));
  cmd->add_option("--passes", c.passes, "Ancestral: model runs per result (0 = one per 16th step; more = slower, closer to exact sampling)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--iterations", c.iterations, "Gibbs: model runs per result, each redrawing a block that shrinks from all to 5 % (0 = one per step with a note to draw: per 8th with --rhythm eighths)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{100000}));
  cmd->add_option("--final-temperature", c.final_temperature, "Gibbs: the temperature falls linearly from --temperature to this over the iterations (0 = --temperature throughout)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--hold-temperature", c.hold_temperature, "Whether a voice holds its note or moves is drawn at this temperature, the pitch it moves to at the sampling temperature (0 = one draw)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--candidates", c.candidates, "Harmonizations drawn side by side per result; the critic keeps one (1 = no critic)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, generate::kMaxInfillChains));
  cmd->add_option("--critic", c.critic, "With --candidates: consensus (the one agreeing most with the others, beat by beat) | model (the model's best-scored)")
      ->capture_default_str()
      ->check(CLI::IsMember({"consensus", "model"}));
  cmd->add_option("--precision", c.precision, "The model's runs: auto (bf16 where the CPU computes it natively, else fp32), fp32 or bf16")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "fp32", "bf16"}));
  cmd->add_option("--rhythm", c.rhythm, "eighths: the drawn voices start notes on the 8th grid (an off-beat 16th holds the note before); sixteenths: on any 16th")
      ->capture_default_str()
      ->check(CLI::IsMember({"eighths", "sixteenths"}));
  cmd->add_option("--tempo", c.tempo, "Quarter notes per minute (0 = the input's, else 80)")->capture_default_str()->check(CLI::Range(0.0, 400.0));
  add_voice_leading_option(cmd, c.voice_leading);
  add_audio_options(cmd, c.audio, c.soundfont);
  cmd->add_option("--out", c.out, "Output name: NAME.mid, NAME.musicxml, NAME.wav")->required();
}

// ---------------------------------------------------------------------------------------------
// Commands

void print_version() {
  const runtime::CpuInfo cpu = runtime::detect_cpu();
  std::printf("bachgen %s (commit %s)\n", runtime::version(), runtime::commit());
  std::printf("LibTorch %s, CUDA %s\n", runtime::torch_version().c_str(),
              runtime::cuda_available() ? "available" : "not available");
  std::printf("CPU: %s (%d logical cores)\n", cpu.model_name.c_str(), cpu.logical_cores);
  std::printf("CPU features: %s; --precision auto picks %s\n", cpu.feature_list().c_str(),
              runtime::precision_name(runtime::resolve_precision(runtime::Precision::kAuto, cpu)));
  std::printf("threads: %d\n", runtime::threads());
  const runtime::AllocatorTuning allocator = runtime::keep_large_allocations();
  std::printf("malloc: %s\n", allocator.applied ? "keeps large buffers in the heap (runtime/allocator.h)"
                                                 : ("glibc defaults (" + allocator.reason + ")").c_str());
  const std::string resources = runtime::resource_dir();
  std::printf("resources: %s\n", resources.empty() ? "(none found)" : resources.c_str());
}

int run_inspect(const commands::InspectSettings& s) {
  const int code = commands::inspect(s, [](int stream, const std::string& text) {
    std::fputs(text.c_str(), stream == 1 ? stdout : stderr);
    if (stream == 1) std::fflush(stdout);
  });
  std::fflush(stdout);
  return code;
}

int run_prepare(const data::PrepareSettings& s) {
  const data::PrepareResult r = data::prepare_dataset(s);
  std::printf("prepare: %s %s -> %s (%s)%s\n", s.source.c_str(), s.path.c_str(), s.out.c_str(),
              s.vocab.c_str(), r.up_to_date ? ": up to date, nothing rebuilt" : "");
  std::printf("  %-6s %8s %10s\n", "split", "pieces", "tokens");
  const char* names[3] = {"train", "valid", "test"};
  for (size_t i = 0; i < 3; ++i) {
    std::printf("  %-6s %8zu %10zu\n", names[i], r.pieces[i], r.tokens[i]);
  }
  if (!r.up_to_date) {
    std::printf("  %zu inputs in %.2f s; %zu skipped, %zu duplicates, %zu matched JSB, %zu excluded "
                "as JSB valid/test (details: %s)\n",
                r.files, r.seconds, r.skipped, r.duplicates, r.matched, r.excluded,
                r.manifest.c_str());
    if (!s.meters.empty()) {
      std::printf("  meters: %zu MusicXML files in 4/4 or 3/4 read; %zu JSB pieces took the meter and pickup of the one they match\n",
                  r.meter_files, r.meters);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Before any tensor: keep large buffers in the heap (runtime/allocator.h; 8x faster training
  // at 512-token windows).
  (void)runtime::keep_large_allocations();
  CLI::App app{"bachgen: learns the style of J.S. Bach and writes new music"};
  app.require_subcommand(0, 1);
  GlobalSettings global;
  app.add_flag("--version", global.version, "Print version, commit, LibTorch and CPU features");
  app.add_option("--threads", global.threads, "LibTorch intra-op threads (0 = every core)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);

  commands::InspectSettings inspect;
  CLI::App* inspect_cmd = app.add_subcommand(
      "inspect", "Summarize MIDI files: format, tracks, notes, duration, tempo and meter");
  inspect_cmd->add_option("files", inspect.files, "MIDI files, or folders of them")->required();
  CLI::Option* json_flag =
      inspect_cmd->add_flag("--json", inspect.json, "One JSON object per file (keys: docs/midi.md)")
          ->capture_default_str();
  inspect_cmd->add_flag("--table", inspect.table, "One table row per file and a totals line")
      ->capture_default_str()
      ->excludes(json_flag);

  data::PrepareSettings prepare;
  CLI::App* prepare_cmd = app.add_subcommand(
      "prepare", "Turn a corpus into train/valid/test token shards and a manifest (docs/data.md)");
  prepare_cmd->add_option("--source", prepare.source, "jsb | midi-chorales | midi-dir")
      ->capture_default_str()
      ->check(CLI::IsMember({"jsb", "midi-chorales", "midi-dir"}));
  prepare_cmd->add_option("path", prepare.path, "The JSB JSON file, or the folder of MIDI files")
      ->required();
  prepare_cmd->add_option("--vocab", prepare.vocab, "satb16 | satb16-onset | performance388")
      ->capture_default_str()
      ->check(CLI::IsMember({"satb16", "satb16-onset", "performance388"}));
  prepare_cmd->add_option("--out", prepare.out, "Output folder")->required();
  prepare_cmd->add_option("--meters", prepare.meters,
                          "jsb: a folder of MusicXML chorales; each JSB piece takes the meter and pickup of the one it matches");
  prepare_cmd->add_option("--exclude-jsb", prepare.exclude_jsb,
                          "MIDI sources: leave out chorales matching a valid/test piece of this "
                          "Jsb16thSeparated.json");
  prepare_cmd->add_option("--workers", prepare.threads, "Worker threads (0 = every core)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  prepare_cmd->add_flag("--force", prepare.force, "Rebuild even when the inputs are unchanged");

  commands::ScoreSettings score;
  CLI::App* score_cmd = app.add_subcommand(
      "score", "Per-token log-probabilities and NLL of pieces under a model (docs/model.md)");
  score_cmd->add_option("--model", score.model, "A bachgen model file or a TorchScript file")
      ->required();
  score_cmd->add_option("--input", score.input,
                        "A .tokens shard, a MIDI file, or JSB.json:SPLIT:INDEX")
      ->required();
  CLI::Option* score_json = score_cmd->add_flag("--json", score.json, "One JSON object");
  score_cmd->add_flag("!--summary", score.per_token, "Text: only the totals, no line per token")
      ->excludes(score_json);

  std::string export_model, export_out;
  CLI::App* export_cmd = app.add_subcommand(
      "export", "Write a model's fp32 weights and config as safetensors for Python (docs/model.md)");
  export_cmd->add_option("--model", export_model, "A bachgen model file")->required();
  export_cmd->add_option("--safetensors", export_out, "Output .safetensors file")->required();

  std::string pack_in, pack_out, pack_weights = "fp32";
  CLI::App* pack_cmd = app.add_subcommand(
      "pack", "Copy a model or checkpoint as a lean model file (no optimizer state), fp32 or bf16 weights (models/README.md)");
  pack_cmd->add_option("--model", pack_in, "A bachgen model file or training checkpoint")->required();
  pack_cmd->add_option("--out", pack_out, "The model file to write")->required();
  pack_cmd->add_option("--weights", pack_weights, "fp32 | bf16 (half the size; loaded back as fp32)")
      ->capture_default_str()
      ->check(CLI::IsMember({"fp32", "bf16"}));

  std::string presets_vocab = "satb16";
  int64_t presets_length = 1024;
  CLI::App* presets_cmd = app.add_subcommand(
      "presets", "The named model presets: shape, parameter count, FLOPs per token");
  presets_cmd->add_option("--vocab", presets_vocab, "satb16 | satb16-onset | performance388")
      ->capture_default_str()
      ->check(CLI::IsMember({"satb16", "satb16-onset", "performance388"}));
  presets_cmd->add_option("--length", presets_length, "Sequence length for the FLOPs")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);

  commands::AttentionSettings attention;
  CLI::App* attention_cmd = app.add_subcommand(
      "attention", "Attention weights of every layer and head on one piece, as JSON and PNG heatmaps");
  attention_cmd->add_option("--model", attention.model, "A bachgen Music Transformer file")->required();
  attention_cmd->add_option("--input", attention.input,
                            "A .tokens shard (first piece), a MIDI file, or JSB.json:SPLIT:INDEX")
      ->required();
  attention_cmd->add_option("--out", attention.out, "Output folder")->required();
  attention_cmd->add_option("--max-tokens", attention.max_tokens, "Cut the piece to this many tokens")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);

  train::TrainSettings tr;
  CLI::App* train_cmd = app.add_subcommand("train", "Train a model on prepared shards (docs/training.md)");
  train_cmd->add_option("--data", tr.data, "A folder made by bachgen prepare")->required();
  train_cmd->add_option("--preset", tr.preset, "Model preset (bachgen presets)")->capture_default_str();
  train_cmd->add_option("--out", tr.out, "Run folder: checkpoints, metrics, TensorBoard")->required();
  train_cmd->add_flag("--resume", tr.resume, "Continue the run in --out from its last checkpoint");
  train_cmd->add_option("--steps", tr.steps, "Optimizer steps in all")->capture_default_str()->check(CLI::PositiveNumber);
  train_cmd->add_option("--batch", tr.batch, "Windows per micro-batch")->capture_default_str()->check(CLI::PositiveNumber);
  train_cmd->add_option("--length", tr.length, "Tokens per window")->capture_default_str()->check(CLI::PositiveNumber);
  train_cmd->add_option("--accumulate", tr.accumulate, "Micro-batches per step")->capture_default_str()->check(CLI::PositiveNumber);
  train_cmd->add_option("--schedule", tr.schedule, "cosine | inverse-sqrt | step | plateau")
      ->capture_default_str()
      ->check(CLI::IsMember({"cosine", "inverse-sqrt", "step", "plateau"}));
  train_cmd->add_option("--lr", tr.lr, "Peak learning rate")->capture_default_str();
  train_cmd->add_option("--min-lr", tr.min_lr, "Cosine floor")->capture_default_str();
  train_cmd->add_option("--warmup", tr.warmup, "Warmup steps")->capture_default_str();
  train_cmd->add_option("--weight-decay", tr.weight_decay, "AdamW decay on weight matrices")->capture_default_str();
  train_cmd->add_option("--clip", tr.clip, "Gradient norm clip (0 = off)")->capture_default_str();
  train_cmd->add_option("--label-smoothing", tr.label_smoothing, "Label smoothing")->capture_default_str();
  train_cmd->add_option("--dropout", tr.dropout, "Dropout (< 0: the preset's)")->capture_default_str();
  train_cmd->add_flag("!--no-augment", tr.augment, "Turn augmentation off");
  train_cmd->add_option("--eval-every", tr.eval_every, "Validate every N steps (0 = at the end)")->capture_default_str();
  train_cmd->add_option("--checkpoint-every", tr.checkpoint_every, "Last checkpoint every N steps")->capture_default_str();
  train_cmd->add_option("--log-every", tr.log_every, "TensorBoard scalars every N steps")->capture_default_str()->check(CLI::PositiveNumber);
  train_cmd->add_option("--patience", tr.patience, "Early stop after N validations without improvement (0 = never)")->capture_default_str();
  train_cmd->add_option("--stop-after", tr.stop_after, "Stop (with a checkpoint) after N steps of this run")->capture_default_str();
  train_cmd->add_option("--seed", tr.seed, "Seed of everything")->capture_default_str();
  train_cmd->add_option("--max-minutes", tr.max_minutes,
                        "Stop (validated, with a checkpoint) after this much training time over all slices (0 = no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  train_cmd->add_option("--eval-window", tr.eval_window, "Validation scores whole pieces in windows of this many tokens")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{2}, int64_t{1} << 20));
  train_cmd->add_option("--precision", tr.precision,
                        "auto | fp32 | bf16 | fp16 (auto: CPU bf16 only where the CPU has native bf16; CUDA fp16 with a gradient scaler)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "fp32", "bf16", "fp16"}));
  train_cmd->add_option("--device", tr.device, "cpu | cuda")->capture_default_str()->check(CLI::IsMember({"cpu", "cuda"}));
  train_cmd->add_option("--workers", tr.workers, "Loader threads preparing batches ahead (0 = in the training thread)")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  train_cmd->add_option("--focal-gamma", tr.focal_gamma, "Focal loss: each token's loss times (1 - p)^gamma (0 = off)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  train_cmd->add_option("--ema", tr.ema, "Keep an exponential moving average of the weights with this decay; validation scores it, best.pt holds it (0 = off)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.99999));
  train_cmd->add_option("--condition-dropout", tr.condition_dropout,
                        "Models with conditions: a window's are all unknown with this probability, else each of meter, length, key is")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  train_cmd->add_option("--nproc", tr.nproc, "Data parallel: launch N local worker processes (--batch is the global batch; docs/distributed.md)")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  train_cmd->add_option("--bucket-mb", tr.bucket_mb, "Data parallel: gradient all-reduce bucket size in MiB")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 1024.0));
  train_cmd->add_flag("!--no-overlap", tr.overlap, "Data parallel: all-reduce after the backward pass, not during it");
  train_cmd->add_option("--dist-timeout", tr.dist_timeout, "Data parallel: seconds a collective may take before it is an error")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 86400.0));

  commands::GenerateSettings gen;
  CLI::App* gen_cmd = app.add_subcommand("generate", "Compose or continue music with a trained model (MIDI, MusicXML, audio out)");
  gen_cmd->add_option("--model", gen.model, "A model file or checkpoint, or a bundled model's name (default: jsb-compose)");
  CLI::Option* primer = gen_cmd->add_option("--primer", gen.primer, "Start from a MIDI file, or a JSB piece SPLIT:INDEX (or FILE.json:SPLIT:INDEX)");
  gen_cmd->add_option("--primer-piece", gen.primer, "Start from a JSB piece SPLIT:INDEX (the same as --primer SPLIT:INDEX)")->excludes(primer);
  gen_cmd->add_option("--primer-steps", gen.primer_steps, "Chorales: keep the primer's first N 16th steps (0 = all)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  add_sampling_options(gen_cmd, gen.sampling, gen.seed);
  gen_cmd->add_option("--bars", gen.bars, "Chorales: length in bars as written (a pickup's bar counts), primer included")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  gen_cmd->add_option("--candidates", gen.candidates,
                      "Chorales, composers with conditions: candidates per piece, the best kept by rule (0: 16 with --key, else 4)")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  gen_cmd->add_option("--meter", gen.meter, "Chorales: 4/4 or 3/4")->capture_default_str()->check(CLI::IsMember({"4/4", "3/4"}));
  gen_cmd->add_option("--pickup", gen.pickup,
                      "Chorales: the pickup in 16ths (0 = none; -1 = as often as Bach's, for composers with conditions)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 11));
  gen_cmd->add_option("--steps", gen.steps, "Chorales: length in 16th steps (instead of --bars); performance: new tokens")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  gen_cmd->add_option("--count", gen.count, "Samples, generated as one batch")->capture_default_str()->check(CLI::Range(1, 1024));
  gen_cmd->add_option("--key", gen.key, "Chorales: the key of the result, e.g. \"D minor\" (keeps candidates in that mode, transposes)");
  gen_cmd->add_option("--tempo", gen.tempo, "Chorales: quarter notes per minute")->capture_default_str()->check(CLI::Range(10.0, 400.0));
  add_voice_leading_option(gen_cmd, gen.voice_leading);
  add_audio_options(gen_cmd, gen.audio, gen.soundfont);
  gen_cmd->add_flag("--full-length", gen.full_length, "Chorales: do not end early at a bar line");
  gen_cmd->add_flag("!--no-cache", gen.use_cache, "Recompute the whole prefix every step (slow; to measure the KV cache)");
  gen_cmd->add_option("--decoder", gen.decoder, "fast: the fused batch-1 decoder, a sample at a time; torch: LibTorch's step, all samples as one batch")
      ->capture_default_str()
      ->check(CLI::IsMember({"fast", "torch"}));
  gen_cmd->add_option("--decode-weights", gen.decode_weights, "The fast decoder's weights: int8 (per-row scales, fp16 cache) or fp32 (exact)")
      ->capture_default_str()
      ->check(CLI::IsMember({"int8", "fp32"}));
  gen_cmd->add_option("--out", gen.out, "Output name: NAME.mid (NAME-1.mid ... with --count)")->required();

  commands::HarmonizeSettings harm;
  CLI::App* harm_cmd = app.add_subcommand("harmonize", "Write alto, tenor and bass under a melody with the conditioning model");
  harm_cmd->add_option("--melody", harm.melody, "The soprano: a MIDI file (its top line) or a MusicXML file, .musicxml or compressed .mxl (its first part)");
  harm_cmd->add_option("--notes", harm.notes, "The soprano as note text, e.g. \"G4:1 | C5:1.5 D5:0.5 E5:2 |\" (docs/generation.md)");
  harm_cmd->add_option("--transpose", harm.transpose,
                       "off: a melody outside the soprano's C4-A5 is refused; auto: moved by octaves when that fits, else into the nearest key that fits and the result back into its own")
      ->capture_default_str()
      ->check(CLI::IsMember({"off", "auto"}));
  harm_cmd->add_option("--cadence", harm.cadence,
                       "tonic: a melody ending on a note of its key's tonic triad ends on that chord, the tonic in the bass; free: as the model draws it")
      ->capture_default_str()
      ->check(CLI::IsMember({"tonic", "free"}));
  harm_cmd->add_option("--key", harm.key, "The melody's key, e.g. \"A major\" or F#m: told to the model and taken by the cadence (default: the MusicXML file's, else the one its notes suggest)");
  add_infill_options(harm_cmd, harm.common);

  commands::InfillSettings inf;
  CLI::App* infill_cmd = app.add_subcommand("infill", "Draw chosen voices in chosen bars again, keeping everything else");
  infill_cmd->add_option("--input", inf.input, "A four-part MIDI file, or a JSB chorale SPLIT:INDEX (or FILE.json:SPLIT:INDEX)")->required();
  infill_cmd->add_option("--bars", inf.bars, "Bars to redo: A-B, A or all, counted from 1")->required();
  infill_cmd->add_option("--voices", inf.voices, "Voices to redo: letters of SATB")->capture_default_str();
  add_infill_options(infill_cmd, inf.common);

  commands::ServeSettings srv;
  bool serve_quiet = false;
  CLI::App* serve_cmd = app.add_subcommand("serve", "The studio: a web page to compose, harmonize, listen and download (docs/studio.md)");
  serve_cmd->add_option("--host", srv.server.host, "Address to listen on (loopback unless told otherwise)")->capture_default_str();
  serve_cmd->add_option("--allowed-host", srv.server.allowed_hosts,
                        "A host name the Host header may name besides localhost, 127.0.0.1, [::1] and --host (repeat for more)");
  serve_cmd->add_option("--port", srv.server.port, "Port (0 = any free port, printed at start)")->capture_default_str()->check(CLI::Range(0, 65535));
  serve_cmd->add_option("--model", srv.backend.compose_model, "The composing model: a file or a bundled name (default jsb-compose)");
  serve_cmd->add_option("--infill-model", srv.backend.infill_model, "The harmonizing model (default jsb-harmonize)");
  serve_cmd->add_option("--workers", srv.server.workers, "Generations at once")->capture_default_str()->check(CLI::Range(1, 64));
  serve_cmd->add_option("--queue", srv.server.queue, "Generations waiting beyond those; more get 503")->capture_default_str()->check(CLI::Range(0, 1024));
  serve_cmd->add_option("--time-limit", srv.server.limits.time_limit_seconds, "Seconds a generation may run")->capture_default_str()->check(CLI::Range(1.0, 3600.0));
  serve_cmd->add_option("--max-bars", srv.server.limits.max_bars, "Longest composition and melody, in 4/4 bars")->capture_default_str()->check(CLI::Range(1, 64));
  serve_cmd->add_option("--results", srv.server.store_count, "Results kept in memory (the oldest go first)")->capture_default_str()->check(CLI::Range(1, 100000));
  serve_cmd->add_option("--results-mb", srv.store_megabytes, "... and at most this many MiB of them")->capture_default_str()->check(CLI::Range(1, 65536));
  serve_cmd->add_option("--audio", srv.backend.audio, "wav | none")->capture_default_str();
  serve_cmd->add_option("--soundfont", srv.backend.soundfont, "A General MIDI .sf2 for the audio (default: TimGM6mb)");
  serve_cmd->add_flag("--quiet", serve_quiet, "No line per request on stderr");

  commands::AnalyzeSettings analyze;
  bool no_reference = false;
  CLI::App* analyze_cmd = app.add_subcommand(
      "analyze", "Style statistics of four-part MIDI files beside Bach's JSB test chorales");
  analyze_cmd->add_option("files", analyze.inputs, "Four-voice MIDI or MusicXML files (.mid, .musicxml, .xml, .mxl), or JSB pieces [FILE.json:]SPLIT[:INDEX]")->required();
  analyze_cmd->add_option("--reference", analyze.reference,
                          "The Bach column: [JSB.json:]SPLIT[:INDEX] (default: the installed JSB data, test split), or a MIDI or MusicXML file; one piece (SPLIT:INDEX or a file) is also a realization each input is compared with (bass and chord per quarter beat)");
  analyze_cmd->add_flag("--no-reference", no_reference, "No Bach column");
  analyze_cmd->add_flag("--json", analyze.json, "A JSON array, one object per column");

  commands::ConvertSettings conv;
  CLI::App* convert_cmd = app.add_subcommand(
      "convert", "Four-part music from one form to another: MIDI, MusicXML (.musicxml, .xml, .mxl), note text (.txt)");
  convert_cmd->add_option("input", conv.input, "A .mid, .midi, .musicxml, .xml, .mxl or .txt file, or a JSB piece [FILE.json:]SPLIT:INDEX")->required();
  convert_cmd->add_option("output", conv.output, "The file to write; its extension names the form (.mid, .midi, .musicxml, .xml, .mxl, .txt)")->required();
  convert_cmd->add_option("--voices", conv.voices, "The four parts (MusicXML) or tracks with notes (MIDI) to read as S A T B, counted from 1: --voices 1,2,3,4")
      ->delimiter(',')
      ->expected(4);
  convert_cmd->add_option("--voice", conv.voice, "The voice a .txt output holds: S, A, T or B")->capture_default_str();
  convert_cmd->add_option("--title", conv.title, "The MusicXML title (default: the output's file name)");

  commands::EvalSettings eval;
  CLI::App* eval_cmd = app.add_subcommand(
      "eval", "NLL per token, accuracy and perplexity of a model over whole pieces of a split");
  eval_cmd->add_option("--model", eval.model, "A bachgen model file, a TorchScript file, or a bundled model's name")->required();
  eval_cmd->add_option("--data", eval.data, "A folder made by bachgen prepare")->required();
  eval_cmd->add_option("--split", eval.split, "train | valid | test")
      ->capture_default_str()
      ->check(CLI::IsMember({"train", "valid", "test"}));
  eval_cmd->add_option("--window", eval.window, "Score longer pieces in consecutive windows of this many tokens")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{2}, int64_t{1} << 20));
  eval_cmd->add_flag("--json", eval.json, "One JSON object");
  eval_cmd->add_option("--conditions", eval.conditions,
                       "Models with conditions (composers, jsb-harmonize): none (nothing known of the piece: the honest NLL) | known (its meter, length and key)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "known"}));
  eval_cmd->add_option("--decode-weights", eval.decode_weights,
                       "int8 | fp32: score token by token through generation's fast decoder with these weights")
      ->check(CLI::IsMember({"int8", "fp32"}));
  eval_cmd->add_flag("--mean-field", eval.mean_field,
                     "Conditioning models: only the one-pass score of ATB given S (the chained ones take a pass per step, or three)");
  eval_cmd->add_flag("--in-time", eval.in_time,
                     "Conditioning models: the mean field and the in-time score (S A T B step by step) only, not the sampler's order");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    runtime::set_threads(global.threads);
    if (global.version) {
      print_version();
      return 0;
    }
    if (inspect_cmd->parsed()) return run_inspect(inspect);
    if (convert_cmd->parsed()) {
      const std::string installed = runtime::installed_jsb_path();
      if (io::is_regular_file(installed)) conv.jsb_file = installed;
      std::fputs(commands::run_convert(conv).c_str(), stdout);
      return 0;
    }
    if (prepare_cmd->parsed()) return run_prepare(prepare);
    if (train_cmd->parsed()) {
      if (tr.nproc > 1 && std::getenv("WORLD_SIZE") == nullptr) {
        // The launcher: the same command once per rank, without --nproc, each on its share of
        // the cores unless --threads says otherwise.
        std::vector<std::string> worker_args;
        for (int i = 0; i < argc; ++i) {
          const std::string a = argv[i];
          if (a == "--nproc") {
            ++i;
            continue;
          }
          if (a.rfind("--nproc=", 0) == 0) continue;
          worker_args.push_back(a);
        }
        if (global.threads == 0) {
          const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / tr.nproc);
          worker_args.insert(worker_args.begin() + 1, {"--threads", std::to_string(cores)});
        }
        return train::launch_local_workers(worker_args, tr.nproc);
      }
      const train::TrainResult r = train::train_model(tr);
      if (r.rank != 0) return 0;  // rank 0 reports for all
      std::printf("trained %lld steps (%s) in %.1f min: loss %.4f -> %.4f, best valid NLL %.4f%s%s%s\n",
                  static_cast<long long>(r.steps_done), r.precision.c_str(), r.train_seconds / 60.0,
                  r.first_loss, r.last_loss, r.best_valid_nll,
                  r.stopped_by_signal ? " (stopped by a signal: --resume continues)" : "",
                  r.stopped_early ? " (stopped early)" : "", r.stopped_by_time ? " (--max-minutes reached)" : "");
      if (r.skipped_steps > 0) {
        std::printf("fp16: %lld steps skipped for inf/NaN gradients\n", static_cast<long long>(r.skipped_steps));
      }
      if (r.world_size > 1) {
        std::printf("data parallel: %d processes; waiting for gradient all-reduces after the backward passes: %.2f s in all\n",
                    r.world_size, r.allreduce_seconds);
      }
      return 0;
    }
    if (analyze_cmd->parsed()) {
      const std::string installed = runtime::installed_jsb_path();
      if (io::is_regular_file(installed)) analyze.jsb_file = installed;
      if (no_reference) {
        analyze.reference.clear();
      } else if (analyze.reference.empty() && io::is_regular_file(installed)) {
        analyze.reference = installed;
      }
      std::fputs(commands::analyze_report(analyze).c_str(), stdout);
      return 0;
    }
    if (gen_cmd->parsed()) {
      std::fputs(commands::run_generate(gen).text.c_str(), stdout);
      return 0;
    }
    if (harm_cmd->parsed()) {
      std::fputs(commands::run_harmonize(harm).text.c_str(), stdout);
      return 0;
    }
    if (infill_cmd->parsed()) {
      std::fputs(commands::run_infill(inf).text.c_str(), stdout);
      return 0;
    }
    if (serve_cmd->parsed()) {
      srv.server.log_requests = !serve_quiet;
      return commands::run_serve(srv);
    }
    if (pack_cmd->parsed()) {
      std::fputs(commands::pack_model(pack_in, pack_out, pack_weights).c_str(), stdout);
      return 0;
    }
    if (eval_cmd->parsed()) {
      std::fputs(commands::eval_report(eval).c_str(), stdout);
      return 0;
    }
    if (attention_cmd->parsed()) {
      std::printf("%s\n", commands::write_attention_maps(attention).c_str());
      return 0;
    }
    if (presets_cmd->parsed()) {
      std::fputs(commands::preset_table(presets_vocab, presets_length).c_str(), stdout);
      return 0;
    }
    if (export_cmd->parsed()) {
      commands::export_model_safetensors(export_model, export_out);
      std::printf("wrote %s\n", export_out.c_str());
      return 0;
    }
    if (score_cmd->parsed()) {
      std::fputs(commands::score_report(score).c_str(), stdout);
      return 0;
    }
    std::cout << app.help();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bachgen: %s\n", e.what());
    return 1;
  }
}
