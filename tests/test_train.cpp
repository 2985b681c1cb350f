// The trainer: the learning test (a tiny transformer and LSTM halve their loss on one batch
// within 200 steps), exact resume (an interrupted and resumed run has the same loss curve,
// bit for bit), refusal of damaged checkpoints, and SIGTERM leaving a loadable checkpoint.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bachgen/data/token_shard.h"
#include "bachgen/model/model_file.h"
#include "bachgen/runtime/torch_runtime.h"
#include "bachgen/train/trainer.h"
#include "cli_run.h"
#include "train_runs.h"

namespace bachgen::train {
namespace {

std::string write_data() { return testing::write_patterned_data(); }
std::vector<double> losses(const std::string& run) { return testing::logged_losses(run); }
using testing::fresh_run;

TrainSettings small(const std::string& data, const std::string& out, const std::string& preset) {
  TrainSettings s;
  s.data = data;
  s.out = out;
  s.preset = preset;
  s.batch = 4;
  s.length = 32;
  s.warmup = 5;
  s.lr = 3e-3;
  s.eval_every = 0;
  s.checkpoint_every = 0;
  s.log_every = 10;
  s.dropout = 0.0;
  s.precision = "fp32";
  s.quiet = true;
  return s;
}

TEST(Train, TinyModelsHalveTheirLossOnOneBatch) {
  const std::string data = write_data();
  for (const std::string preset : {"tiny", "lstm-tiny"}) {
    TrainSettings s = small(data, fresh_run("overfit-" + preset), preset);
    s.steps = 200;
    s.overfit_one_batch = true;
    s.lr = preset == "tiny" ? 3e-3 : 1e-2;
    const TrainResult r = train_model(s);
    EXPECT_EQ(r.steps_done, 200);
    EXPECT_LT(r.last_loss, r.first_loss / 2) << preset << ": " << r.first_loss << " -> " << r.last_loss;
    EXPECT_GT(r.best_valid_nll, 0.0);  // validated at the end
    // The best checkpoint is a model file.
    EXPECT_EQ(model::load_model(best_checkpoint_path(s.out)).spec.vocab, "satb16");
  }
}

TEST(Train, Bf16ReachesTheSameLearningGoal) {
  // bf16 autocast on the CPU (emulated where the CPU lacks AVX512-BF16: slower, same math).
  const torch::Tensor a = torch::ones({4, 4});
  {
    runtime::CpuAutocast autocast(true);
    EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kBFloat16);
  }
  EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kFloat32);  // restored
  const std::string data = write_data();
  TrainSettings s = small(data, fresh_run("overfit-bf16"), "tiny");
  s.steps = 200;
  s.overfit_one_batch = true;
  s.precision = "bf16";
  const TrainResult r = train_model(s);
  EXPECT_EQ(r.precision, "bf16");
  EXPECT_LT(r.last_loss, r.first_loss / 2) << r.first_loss << " -> " << r.last_loss;
  s.out = fresh_run("fp32-explicit");
  s.precision = "fp32";
  s.steps = 2;
  EXPECT_EQ(train_model(s).precision, "fp32");
}

TEST(Train, AnInterruptedRunResumesExactly) {
  const std::string data = write_data();
  TrainSettings whole = small(data, fresh_run("whole"), "tiny");
  whole.steps = 20;
  whole.dropout = 0.1;  // so the RNG state matters
  whole.precision = "fp32";  // bitwise equality is promised for fp32
  whole.eval_every = 10;
  train_model(whole);

  TrainSettings part = whole;
  part.out = fresh_run("parts");
  part.stop_after = 8;
  EXPECT_EQ(train_model(part).steps_done, 8);
  EXPECT_THROW(train_model(part), std::runtime_error);  // the run exists: --resume is needed
  part.resume = true;
  part.stop_after = 0;
  EXPECT_EQ(train_model(part).steps_done, 12);
  const std::vector<double> a = losses(whole.out), b = losses(part.out);
  ASSERT_EQ(a.size(), 20u);
  ASSERT_EQ(b.size(), 20u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << "step " << i + 1;
}

// --ema: best.pt holds the average (not the last weights), and an interrupted run resumes it
// exactly (the average is in last.pt).
TEST(Train, TheWeightAverageResumesExactly) {
  const std::string data = write_data();
  TrainSettings whole = small(data, fresh_run("ema-whole"), "tiny");
  whole.steps = 16;
  whole.ema = 0.9;
  whole.eval_every = 16;
  train_model(whole);
  TrainSettings part = whole;
  part.out = fresh_run("ema-parts");
  part.stop_after = 7;
  train_model(part);
  part.resume = true;
  part.stop_after = 0;
  train_model(part);
  const auto params = [](const std::string& path) { return model::load_model(path).model->parameters(); };
  const auto a = params(best_checkpoint_path(whole.out)), b = params(best_checkpoint_path(part.out));
  const auto last = params(last_checkpoint_path(whole.out));
  ASSERT_EQ(a.size(), b.size());
  double moved = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i;
    moved = std::max(moved, (a[i] - last[i]).abs().max().item<double>());
  }
  EXPECT_GT(moved, 1e-4);  // the average is not the last weights
}

// A composer with conditions trains on them (the manifest's meters, each piece's length and
// key), validation logs the NLL both ways, and `eval --conditions` scores both ways.
TEST(Train, AComposerWithConditionsIsScoredBothWays) {
  const std::string data = write_data();
  std::ofstream(data + "/manifest.json") << R"({"meters": {"train": [[16, 0], [16, 12], null, [12, 0], [16, 0], [16, 4]],
                                                "valid": [[16, 0], [16, 12], [16, 0], [12, 0], [16, 0], [16, 0]]}})";
  TrainSettings s = small(data, fresh_run("conditioned"), "compose-tiny");
  s.steps = 30;
  s.eval_every = 30;
  train_model(s);
  std::ifstream in(s.out + "/metrics.jsonl");
  int validations = 0;
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json j = nlohmann::json::parse(line);
    if (!j.contains("valid_nll")) continue;
    ++validations;
    EXPECT_TRUE(j.contains("valid_nll_conditioned")) << line;
    EXPECT_NE(j["valid_nll"].get<double>(), j["valid_nll_conditioned"].get<double>()) << line;
  }
  EXPECT_EQ(validations, 1);
  const std::string best = best_checkpoint_path(s.out);
  const std::string common = "eval --model '" + best + "' --data '" + data + "' --split valid --json";
  const testing::CliResult none = testing::run_command(BACHGEN_CLI, common);
  const testing::CliResult known = testing::run_command(BACHGEN_CLI, common + " --conditions known");
  ASSERT_EQ(none.exit_code, 0) << none.err;
  ASSERT_EQ(known.exit_code, 0) << known.err;
  const nlohmann::json a = nlohmann::json::parse(none.out), b = nlohmann::json::parse(known.out);
  EXPECT_EQ(a["conditions"], "none");
  EXPECT_EQ(b["conditions"], "known");
  EXPECT_NE(a["nll_per_token"].get<double>(), b["nll_per_token"].get<double>());
  EXPECT_EQ(a["tokens"], b["tokens"]);
  // A model without conditions cannot be told them.
  TrainSettings plain = small(data, fresh_run("unconditioned"), "tiny");
  plain.steps = 2;
  train_model(plain);
  const testing::CliResult refused = testing::run_command(
      BACHGEN_CLI, "eval --model '" + last_checkpoint_path(plain.out) + "' --data '" + data + "' --split valid --conditions known");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("has no conditions"), std::string::npos) << refused.err;
}

TEST(Train, AResumeRebuildsTheRunsOwnModelWhateverThePreset) {
  const std::string data = write_data();
  TrainSettings s = small(data, fresh_run("respec"), "tiny");
  s.steps = 6;
  s.stop_after = 3;
  train_model(s);
  // Resumed with another preset: the checkpoint's spec wins and the weights fit; --dropout,
  // which shapes no weight, still applies.
  s.resume = true;
  s.stop_after = 0;
  s.preset = "jsb-small";
  s.dropout = 0.3;
  EXPECT_EQ(train_model(s).steps_done, 3);
  const model::ModelSpec spec = model::load_model(last_checkpoint_path(s.out)).spec;
  EXPECT_EQ(model::spec_shape(spec), model::spec_shape(model::preset("tiny", "satb16")));
  EXPECT_DOUBLE_EQ(spec.transformer.dropout, 0.3);
  // A resume without a run is a clear error naming the checkpoint.
  s.out = fresh_run("respec-none");
  try {
    train_model(s);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("last.pt"), std::string::npos) << e.what();
  }
}

TEST(Train, SettingsJsonRecordsEverySetting) {
  const nlohmann::json j = nlohmann::json::parse(settings_to_json(TrainSettings{}));
  // Every field of TrainSettings (trainer.h), by name: a new field must be added here and there.
  const std::vector<std::string> fields = {
      "data", "preset", "out", "resume", "steps", "batch", "length", "accumulate", "schedule", "lr", "min_lr", "warmup",
      "weight_decay", "clip", "label_smoothing", "dropout", "augment", "eval_every", "checkpoint_every", "log_every",
      "patience", "eval_window", "seed", "precision", "device", "workers", "focal_gamma", "condition_dropout", "ema", "quiet", "stop_after",
      "max_minutes", "overfit_one_batch", "nproc", "bucket_mb", "overlap", "dist_timeout"};
  for (const std::string& f : fields) EXPECT_TRUE(j.contains(f)) << f;
  EXPECT_EQ(j.size(), fields.size());
}

TEST(Train, LoaderWorkersAndFocalLossKeepTheRunDeterministic) {
  const std::string data = write_data();
  TrainSettings a = small(data, fresh_run("workers0"), "tiny");
  a.steps = 12;
  a.dropout = 0.1;
  a.accumulate = 2;
  a.focal_gamma = 1.5;
  a.workers = 0;
  train_model(a);
  TrainSettings b = a;
  b.out = fresh_run("workers3");
  b.workers = 3;
  train_model(b);
  const std::vector<double> la = losses(a.out), lb = losses(b.out);
  ASSERT_EQ(la.size(), 12u);
  for (size_t i = 0; i < la.size(); ++i) EXPECT_EQ(la[i], lb[i]) << "step " << i + 1;
  // config.json records the settings.
  std::ifstream in(b.out + "/config.json");
  const nlohmann::json config = nlohmann::json::parse(in);
  EXPECT_EQ(config["settings"]["workers"], 3);
  EXPECT_EQ(config["settings"]["focal_gamma"], 1.5);
}

TEST(Train, MaxMinutesStopsValidatedAndCountsAcrossSlices) {
  const std::string data = write_data();
  TrainSettings s = small(data, fresh_run("timed"), "tiny");
  s.steps = 1000000;
  s.max_minutes = 0.5 / 60;  // half a second
  const TrainResult r = train_model(s);
  EXPECT_TRUE(r.stopped_by_time);
  EXPECT_LT(r.steps_done, s.steps);
  EXPECT_GE(r.train_seconds, 0.5);
  EXPECT_GT(r.best_valid_nll, 0.0);  // validated before stopping
  // A resumed run has used up its budget: it stops after one more step.
  s.resume = true;
  const TrainResult again = train_model(s);
  EXPECT_TRUE(again.stopped_by_time);
  EXPECT_EQ(again.steps_done, 1);
  EXPECT_GT(again.train_seconds, r.train_seconds);
}

TEST(Train, SettingsTableAndBadSettings) {
  TrainSettings s;
  s.data = "d";
  s.out = "o";
  s.focal_gamma = 2;
  const std::string table = settings_table(s, "music-transformer D8", "fp32", 2);
  EXPECT_NE(table.find("  precision        auto -> fp32\n"), std::string::npos) << table;
  EXPECT_NE(table.find("  focal gamma      2\n"), std::string::npos) << table;
  EXPECT_NE(table.find("  batch x length   16 x 256\n"), std::string::npos) << table;
  EXPECT_NE(table.find("  model            jsb-small: music-transformer D8\n"), std::string::npos) << table;
  const std::string data = write_data();
  TrainSettings bad = small(data, fresh_run("bad-device"), "tiny");
  bad.device = "tpu";
  EXPECT_THROW(train_model(bad), std::runtime_error);
  bad.device = "cpu";
  bad.precision = "fp16";  // CUDA only
  EXPECT_THROW(train_model(bad), std::invalid_argument);
  if (!runtime::cuda_available()) {
    bad.device = "cuda";
    bad.precision = "auto";
    try {
      train_model(bad);
      FAIL();
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("--device cuda"), std::string::npos) << e.what();
    }
  }
}

TEST(Train, DamagedCheckpointsAreRefusedClearly) {
  const std::string data = write_data();
  TrainSettings s = small(data, fresh_run("damaged"), "tiny");
  s.steps = 4;
  train_model(s);
  const std::string last = last_checkpoint_path(s.out);
  std::ifstream in(last, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(last, std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  s.resume = true;
  s.steps = 8;
  try {
    train_model(s);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(last + ": not a readable checkpoint"), std::string::npos) << e.what();
  }
}

TEST(Train, SigtermLeavesALoadableCheckpoint) {
  const std::string data = write_data();
  const std::string run = fresh_run("signal");
  // SIGTERM once training has started (its first metrics line is written), however slow the
  // machine is to start the program.
  const std::string script = testing::test_file("sigterm.sh");
  {
    std::ofstream sh(script);
    sh << "'" << BACHGEN_CLI << "' train --data '" << data << "' --preset tiny --out '" << run
       << "' --steps 100000 --batch 4 --length 32 --eval-every 0 --checkpoint-every 0 &\n"
       << "pid=$!\n"
       << "for i in $(seq 600); do [ -s '" << run << "/metrics.jsonl' ] && break; sleep 0.1; done\n"
       << "sleep 0.5\nkill -TERM $pid\nwait $pid\n";
  }
  const testing::CliResult r = testing::run_command("bash", "'" + script + "'");
  EXPECT_NE(r.out.find("stopped by a signal"), std::string::npos) << r.out << r.err;
  const model::LoadedModel loaded = model::load_model(last_checkpoint_path(run));
  EXPECT_STREQ(model::model_kind_name(loaded.spec.kind), "music-transformer");
  const size_t steps = losses(run).size();
  EXPECT_GT(steps, 0u);
  // And it resumes from there.
  const testing::CliResult resumed = testing::run_command(
      BACHGEN_CLI, "train --data '" + data + "' --preset tiny --out '" + run + "' --resume --steps " +
                       std::to_string(steps + 2) + " --batch 4 --length 32 --eval-every 0");
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(losses(run).size(), steps + 2);
}

}  // namespace
}  // namespace bachgen::train
