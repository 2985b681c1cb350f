// The training loop and its checkpoints.
#include "bachgen/train/trainer.h"

#include <ATen/CPUGeneratorImpl.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "bachgen/data/token_dataset.h"
#include "bachgen/io/files.h"
#include "bachgen/io/progress.h"
#include "bachgen/model/model_file.h"
#include "bachgen/runtime/cpu_features.h"
#include "bachgen/runtime/torch_runtime.h"
#include "bachgen/train/evaluate.h"
#include "bachgen/train/lr_schedule.h"
#include "bachgen/train/tensorboard.h"

namespace bachgen::train {

namespace {

using nlohmann::json;
using torch::indexing::Slice;

std::atomic<bool> g_stop_requested{false};
extern "C" void request_stop(int) { g_stop_requested = true; }

// Restores the previous SIGINT / SIGTERM handlers when training ends.
struct SignalScope {
  void (*old_int)(int);
  void (*old_term)(int);
  SignalScope() {
    g_stop_requested = false;
    old_int = std::signal(SIGINT, request_stop);
    old_term = std::signal(SIGTERM, request_stop);
  }
  ~SignalScope() {
    std::signal(SIGINT, old_int);
    std::signal(SIGTERM, old_term);
  }
};

json settings_json(const TrainSettings& s) {
  return {{"data", s.data},         {"preset", s.preset},       {"out", s.out},
          {"steps", s.steps},       {"batch", s.batch},         {"length", s.length},
          {"accumulate", s.accumulate}, {"schedule", s.schedule}, {"lr", s.lr},
          {"min_lr", s.min_lr},     {"warmup", s.warmup},       {"weight_decay", s.weight_decay},
          {"clip", s.clip},         {"label_smoothing", s.label_smoothing}, {"dropout", s.dropout},
          {"augment", s.augment},   {"eval_every", s.eval_every}, {"checkpoint_every", s.checkpoint_every},
          {"log_every", s.log_every}, {"patience", s.patience}, {"eval_window", s.eval_window},
          {"seed", s.seed},         {"overfit_one_batch", s.overfit_one_batch},
          {"precision", s.precision}};
}

// Masked mean cross-entropy of logits (B, T, V) against targets (B, T), in nats.
torch::Tensor masked_loss(const torch::Tensor& logits, const torch::Tensor& target,
                          const torch::Tensor& mask, double label_smoothing) {
  const int64_t v = logits.size(-1);
  const torch::Tensor per_token = torch::nn::functional::cross_entropy(
      logits.reshape({-1, v}), target.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone).label_smoothing(label_smoothing));
  const torch::Tensor m = mask.reshape({-1});
  return (per_token * m).sum() / m.sum().clamp_min(1.0);
}

// AdamW groups: weight matrices decay; norms, biases, embeddings and relative tables do not.
std::vector<torch::optim::OptimizerParamGroup> parameter_groups(model::SequenceModelImpl& m,
                                                                double weight_decay) {
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& p : m.named_parameters()) {
    const std::string& name = p.key();
    const bool exempt = p.value().dim() < 2 || name.find("embedding") != std::string::npos ||
                        name.find("relative") != std::string::npos || name.find("norm") != std::string::npos;
    (exempt ? no_decay : decay).push_back(p.value());
  }
  auto with_decay = std::make_unique<torch::optim::AdamWOptions>();
  with_decay->weight_decay(weight_decay);
  auto without = std::make_unique<torch::optim::AdamWOptions>();
  without->weight_decay(0.0);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::move(with_decay));
  groups.emplace_back(no_decay, std::move(without));
  return groups;
}

struct TrainState {
  int64_t step = 0;  // optimizer steps done
  double best_valid = std::numeric_limits<double>::infinity();
  int64_t bad_validations = 0;
  double first_loss = 0;
};

// A checkpoint: the model file's keys (loadable by load_model) plus the optimizer, the RNG and
// the training state. Written to memory, then atomically to disk.
void save_checkpoint(const std::string& path, const model::ModelSpec& spec, model::SequenceModelImpl& m,
                     torch::optim::AdamW& optimizer, const LrSchedule& schedule, const TrainState& st,
                     const TrainSettings& settings) {
  torch::serialize::OutputArchive archive;
  archive.write("bachgen_format", c10::IValue(model::kModelFormatVersion));
  archive.write("bachgen_spec", c10::IValue(model::spec_to_json(spec)));
  torch::serialize::OutputArchive weights, opt;
  m.save(weights);
  archive.write("weights", weights);
  optimizer.save(opt);
  archive.write("optimizer", opt);
  archive.write("rng", at::detail::getDefaultCPUGenerator().get_state());
  const json state = {{"step", st.step},
                      {"best_valid", std::isfinite(st.best_valid) ? st.best_valid : -1.0},
                      {"bad_validations", st.bad_validations},
                      {"first_loss", st.first_loss},
                      {"schedule", {{"best", std::isfinite(schedule.best()) ? schedule.best() : -1.0},
                                    {"bad", schedule.bad_evaluations()},
                                    {"scale", schedule.scale()}}},
                      {"settings", settings_json(settings)}};
  archive.write("train_state", c10::IValue(state.dump()));
  std::string bytes;
  archive.save_to([&bytes](const void* data, size_t n) {
    bytes.append(static_cast<const char*>(data), n);
    return n;
  });
  io::write_file_atomically(path, bytes);
}

void load_checkpoint(const std::string& path, model::SequenceModelImpl& m, torch::optim::AdamW& optimizer,
                     LrSchedule& schedule, TrainState& st) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const std::exception&) {
    throw std::runtime_error(path + ": not a readable checkpoint (missing, truncated or damaged)");
  }
  c10::IValue state_json;
  if (!archive.try_read("train_state", state_json) || !state_json.isString()) {
    throw std::runtime_error(path + ": not a training checkpoint (no train_state)");
  }
  try {
    torch::serialize::InputArchive weights, opt;
    archive.read("weights", weights);
    m.load(weights);
    archive.read("optimizer", opt);
    optimizer.load(opt);
    torch::Tensor rng;
    archive.read("rng", rng);
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    generator.set_state(rng);
    const json j = json::parse(state_json.toStringRef());
    st.step = j.at("step");
    const double best = j.at("best_valid");
    st.best_valid = best < 0 ? std::numeric_limits<double>::infinity() : best;
    st.bad_validations = j.at("bad_validations");
    st.first_loss = j.at("first_loss");
    const double sbest = j.at("schedule").at("best");
    schedule.restore(sbest < 0 ? std::numeric_limits<double>::infinity() : sbest,
                     j.at("schedule").at("bad"), j.at("schedule").at("scale"));
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": the checkpoint does not match this run: " + e.what());
  }
}

void append_line(const std::string& path, const std::string& line) {
  std::ofstream out(path, std::ios::app);
  out << line << "\n";
}

}  // namespace

std::string last_checkpoint_path(const std::string& run_dir) { return run_dir + "/last.pt"; }
std::string best_checkpoint_path(const std::string& run_dir) { return run_dir + "/best.pt"; }

TrainResult train_model(const TrainSettings& s) {
  if (s.out.empty()) throw std::runtime_error("no run folder (--out)");
  if (s.steps <= 0 || s.batch <= 0 || s.length <= 0 || s.accumulate <= 0) {
    throw std::runtime_error("--steps, --batch, --length and --accumulate must be positive");
  }
  const auto train_shard = std::make_shared<const data::TokenShard>(data::read_shard(s.data + "/train.tokens"));
  const data::TokenShard valid_shard = data::read_shard(s.data + "/valid.tokens");
  model::ModelSpec spec = model::preset(s.preset, data::vocab_name(train_shard->vocab));
  if (s.dropout >= 0) {
    spec.transformer.dropout = s.dropout;
    spec.lstm.dropout = s.dropout;
  }
  io::make_directories(s.out);
  const std::string last = last_checkpoint_path(s.out);
  if (!s.resume && std::ifstream(last).good()) {
    throw std::runtime_error(s.out + " already holds a run; pass --resume to continue it, or choose another --out");
  }
  torch::manual_seed(s.seed);
  model::SequenceModel m = model::build_model(spec);
  torch::optim::AdamW optimizer(parameter_groups(*m, s.weight_decay));
  ScheduleOptions so;
  so.kind = parse_schedule(s.schedule);
  so.peak_lr = s.lr;
  so.min_lr = s.min_lr;
  so.warmup_steps = s.warmup;
  so.total_steps = s.steps;
  LrSchedule schedule(so);
  TrainState st;
  if (s.resume) load_checkpoint(last, *m, optimizer, schedule, st);
  io::write_file_atomically(s.out + "/config.json",
                            json({{"settings", settings_json(s)}, {"model", json::parse(model::spec_to_json(spec))}}).dump(2) + "\n");

  data::WindowOptions wo;
  wo.length = s.length;
  wo.seed = s.seed;
  wo.augment = s.augment && !s.overfit_one_batch;
  data::WindowDataset dataset(train_shard, wo);
  TensorBoardWriter board(s.out + "/tensorboard");
  const std::string metrics = s.out + "/metrics.jsonl";
  const runtime::Precision precision =
      runtime::resolve_precision(runtime::parse_precision(s.precision), runtime::detect_cpu());
  const bool bf16 = precision == runtime::Precision::kBf16;
  SignalScope signals;
  TrainResult result;
  result.precision = runtime::precision_name(precision);
  m->train();
  io::Progress progress("train", static_cast<size_t>(s.steps - st.step), "steps", stderr);
  const auto start = std::chrono::steady_clock::now();
  int64_t tokens_since_log = 0;
  auto last_log = start;
  while (st.step < s.steps) {
    const double lr = schedule.lr_at(st.step);
    for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    optimizer.zero_grad();
    double step_loss = 0;
    for (int64_t a = 0; a < s.accumulate; ++a) {
      std::vector<size_t> indices(static_cast<size_t>(s.batch));
      for (int64_t r = 0; r < s.batch; ++r) {
        const int64_t micro = s.overfit_one_batch ? a : st.step * s.accumulate + a;
        indices[static_cast<size_t>(r)] = static_cast<size_t>(micro * s.batch + r);
      }
      const data::TokenBatch b = dataset.get_batch(indices);
      torch::Tensor loss;
      {
        runtime::CpuAutocast autocast(bf16);  // the forward pass and the loss; backward follows it
        loss = masked_loss(m->forward(b.input, b.offset).to(torch::kFloat32), b.target, b.mask,
                           s.label_smoothing);
      }
      (loss / static_cast<double>(s.accumulate)).backward();
      step_loss += loss.item<double>() / static_cast<double>(s.accumulate);
      tokens_since_log += b.mask.sum().item<int64_t>();
    }
    if (s.clip > 0) torch::nn::utils::clip_grad_norm_(m->parameters(), s.clip);
    optimizer.step();
    if (st.step == 0) st.first_loss = step_loss;
    ++st.step;
    ++result.steps_done;
    result.last_loss = step_loss;
    append_line(metrics, json({{"step", st.step}, {"loss", step_loss}, {"lr", lr}}).dump());
    if (st.step % s.log_every == 0 || st.step == s.steps) {
      const auto now = std::chrono::steady_clock::now();
      const double seconds = std::chrono::duration<double>(now - last_log).count();
      board.add_scalar("train/loss", step_loss, st.step);
      board.add_scalar("train/lr", lr, st.step);
      board.add_scalar("train/tokens_per_second", tokens_since_log / std::max(seconds, 1e-9), st.step);
      board.flush();
      tokens_since_log = 0;
      last_log = now;
    }
    progress.update(static_cast<size_t>(result.steps_done));
    const bool validate = (s.eval_every > 0 && st.step % s.eval_every == 0) || st.step == s.steps;
    if (validate) {
      const double nll = evaluate_shard(*m, valid_shard, s.eval_window).nll_per_token;  // as `bachgen eval`
      m->train();
      append_line(metrics, json({{"step", st.step}, {"valid_nll", nll}}).dump());
      board.add_scalar("valid/nll", nll, st.step);
      board.flush();
      schedule.observe(nll);
      if (nll < st.best_valid) {
        st.best_valid = nll;
        st.bad_validations = 0;
        model::save_model(best_checkpoint_path(s.out), spec, *m);
      } else if (s.patience > 0 && ++st.bad_validations >= s.patience) {
        result.stopped_early = true;
      }
    }
    const bool slice_done = s.stop_after > 0 && result.steps_done >= s.stop_after;
    const bool stop = g_stop_requested.load() || result.stopped_early || slice_done;
    if (stop || st.step == s.steps || (s.checkpoint_every > 0 && st.step % s.checkpoint_every == 0)) {
      save_checkpoint(last, spec, *m, optimizer, schedule, st, s);
    }
    if (stop) {
      result.stopped_by_signal = g_stop_requested.load();
      break;
    }
  }
  progress.finish(result.stopped_by_signal ? "(stopped by a signal; resume with --resume)" : "");
  result.first_loss = st.first_loss;
  result.best_valid_nll = std::isfinite(st.best_valid) ? st.best_valid : 0.0;
  return result;
}

}  // namespace bachgen::train
