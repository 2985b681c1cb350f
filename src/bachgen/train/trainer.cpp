// The training loop and its checkpoints.
#include "bachgen/train/trainer.h"

#include "bachgen/train/process_group.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <optional>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "bachgen/data/infill_dataset.h"
#include "bachgen/data/piece_conditions.h"
#include "bachgen/data/token_dataset.h"
#include "bachgen/io/files.h"
#include "bachgen/io/progress.h"
#include "bachgen/model/model_file.h"
#include "bachgen/runtime/cpu_features.h"
#include "bachgen/runtime/torch_runtime.h"
#include "bachgen/data/prefetcher.h"
#include "bachgen/train/evaluate.h"
#include "bachgen/train/grad_scaler.h"
#include "bachgen/train/loss.h"
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

// Every setting of the run, as config.json and each checkpoint record them.
json settings_json(const TrainSettings& s) {
  return {{"data", s.data},         {"preset", s.preset},       {"out", s.out},
          {"resume", s.resume},     {"steps", s.steps},         {"batch", s.batch},
          {"length", s.length},     {"accumulate", s.accumulate}, {"schedule", s.schedule},
          {"lr", s.lr},             {"min_lr", s.min_lr},       {"warmup", s.warmup},
          {"weight_decay", s.weight_decay}, {"clip", s.clip}, {"label_smoothing", s.label_smoothing},
          {"dropout", s.dropout},   {"augment", s.augment},     {"eval_every", s.eval_every},
          {"checkpoint_every", s.checkpoint_every}, {"log_every", s.log_every}, {"patience", s.patience},
          {"eval_window", s.eval_window}, {"seed", s.seed},    {"precision", s.precision},
          {"device", s.device},     {"workers", s.workers},     {"focal_gamma", s.focal_gamma}, {"condition_dropout", s.condition_dropout}, {"ema", s.ema},
          {"quiet", s.quiet},       {"stop_after", s.stop_after}, {"max_minutes", s.max_minutes},
          {"overfit_one_batch", s.overfit_one_batch}, {"nproc", s.nproc}, {"bucket_mb", s.bucket_mb},
          {"overlap", s.overlap},   {"dist_timeout", s.dist_timeout}};
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
  double train_seconds = 0;  // all slices so far
};

// The exponential moving average of the weights (--ema): after each step shadow = d * shadow +
// (1 - d) * weight with d = min(decay, (1 + step) / (10 + step)), so that the first steps do not
// hold it at the initial weights. swap() exchanges the model's weights with it (validation
// scores the average, then swaps back).
struct WeightAverage {
  double decay = 0;
  std::vector<torch::Tensor> shadow;

  WeightAverage(double d, const std::vector<torch::Tensor>& parameters) : decay(d) {
    torch::NoGradGuard no_grad;
    for (const torch::Tensor& p : parameters) shadow.push_back(p.detach().clone());
  }
  void update(const std::vector<torch::Tensor>& parameters, int64_t step) {
    torch::NoGradGuard no_grad;
    const double d = std::min(decay, (1.0 + static_cast<double>(step)) / (10.0 + static_cast<double>(step)));
    for (size_t i = 0; i < shadow.size(); ++i) shadow[i].mul_(d).add_(parameters[i].detach(), 1.0 - d);
  }
  void swap(const std::vector<torch::Tensor>& parameters) {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < shadow.size(); ++i) {
      torch::Tensor kept = parameters[i].detach().clone();
      parameters[i].detach().copy_(shadow[i]);
      shadow[i].copy_(kept);
    }
  }
  void save(torch::serialize::OutputArchive& archive) const {
    torch::serialize::OutputArchive a;
    for (size_t i = 0; i < shadow.size(); ++i) a.write("p" + std::to_string(i), shadow[i]);
    archive.write("ema", a);
  }
  // From a checkpoint; one without an average (a run that had none) starts it at the weights.
  void load(torch::serialize::InputArchive& archive) {
    torch::serialize::InputArchive a;
    if (!archive.try_read("ema", a)) return;
    for (size_t i = 0; i < shadow.size(); ++i) {
      torch::Tensor t;
      a.read("p" + std::to_string(i), t);
      shadow[i].copy_(t);
    }
  }
};

// A checkpoint: the model file's keys (loadable by load_model) plus the optimizer, the RNG and
// the training state. Written to memory, then atomically to disk.
void save_checkpoint(const std::string& path, const model::ModelSpec& spec, model::SequenceModelImpl& m,
                     torch::optim::AdamW& optimizer, const LrSchedule& schedule, const GradScaler& scaler,
                     const TrainState& st, const TrainSettings& settings, const WeightAverage* average) {
  torch::serialize::OutputArchive archive;
  if (average != nullptr) average->save(archive);
  archive.write("bachgen_format", c10::IValue(model::format_version_for(spec)));
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
                      {"train_seconds", st.train_seconds},
                      {"schedule", {{"best", std::isfinite(schedule.best()) ? schedule.best() : -1.0},
                                    {"bad", schedule.bad_evaluations()},
                                    {"scale", schedule.scale()}}},
                      {"grad_scaler", {{"scale", scaler.scale()},
                                       {"good_steps", scaler.good_steps()},
                                       {"skipped_steps", scaler.skipped_steps()}}},
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
                     LrSchedule& schedule, GradScaler& scaler, TrainState& st, const torch::Device& device,
                     WeightAverage* average) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path, device);
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
    if (average != nullptr) {
      torch::NoGradGuard no_grad;
      const std::vector<torch::Tensor> parameters = m.parameters();
      for (size_t i = 0; i < parameters.size(); ++i) average->shadow[i].copy_(parameters[i].detach());
      average->load(archive);
    }
    torch::Tensor rng;
    archive.read("rng", rng);
    rng = rng.to(torch::kCPU);
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    generator.set_state(rng);
    const json j = json::parse(state_json.toStringRef());
    st.step = j.at("step");
    const double best = j.at("best_valid");
    st.best_valid = best < 0 ? std::numeric_limits<double>::infinity() : best;
    st.bad_validations = j.at("bad_validations");
    st.first_loss = j.at("first_loss");
    st.train_seconds = j.value("train_seconds", 0.0);
    const double sbest = j.at("schedule").at("best");
    schedule.restore(sbest < 0 ? std::numeric_limits<double>::infinity() : sbest,
                     j.at("schedule").at("bad"), j.at("schedule").at("scale"));
    if (j.contains("grad_scaler")) {
      const json& g = j.at("grad_scaler");
      scaler.restore(g.at("scale"), g.at("good_steps"), g.at("skipped_steps"));
    }
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

std::string settings_table(const TrainSettings& s, const std::string& model_summary,
                           const std::string& resolved_precision, int threads) {
  std::vector<std::pair<std::string, std::string>> rows;
  const auto num = [](double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", v);
    return std::string(text);
  };
  rows.emplace_back("data", s.data);
  rows.emplace_back("out", s.out + (s.resume ? " (resumed)" : ""));
  rows.emplace_back("model", s.preset + ": " + model_summary);
  rows.emplace_back("device", s.device);
  rows.emplace_back("precision", s.precision == resolved_precision ? s.precision : s.precision + " -> " + resolved_precision);
  rows.emplace_back("threads", std::to_string(threads));
  rows.emplace_back("workers", std::to_string(s.workers));
  rows.emplace_back("steps", std::to_string(s.steps) + (s.stop_after > 0 ? " (this slice: " + std::to_string(s.stop_after) + ")" : ""));
  rows.emplace_back("max minutes", s.max_minutes > 0 ? num(s.max_minutes) : "no limit");
  rows.emplace_back("batch x length", std::to_string(s.batch) + " x " + std::to_string(s.length) +
                                          (s.accumulate > 1 ? " x " + std::to_string(s.accumulate) + " accumulated" : ""));
  rows.emplace_back("schedule", s.schedule + ", lr " + num(s.lr) + " -> " + num(s.min_lr) + ", warmup " + std::to_string(s.warmup));
  rows.emplace_back("weight decay", num(s.weight_decay));
  rows.emplace_back("clip", s.clip > 0 ? num(s.clip) : "off");
  rows.emplace_back("label smoothing", num(s.label_smoothing));
  rows.emplace_back("focal gamma", s.focal_gamma > 0 ? num(s.focal_gamma) : "off");
  rows.emplace_back("weight average", s.ema > 0 ? "EMA, decay " + num(s.ema) + " (validated, best.pt)" : "off");
  rows.emplace_back("dropout", s.dropout < 0 ? "preset's" : num(s.dropout));
  rows.emplace_back("augment", s.augment ? "on" : "off");
  rows.emplace_back("validation", "every " + std::to_string(s.eval_every) + " steps, window " + std::to_string(s.eval_window) +
                                      (s.patience > 0 ? ", patience " + std::to_string(s.patience) : ""));
  rows.emplace_back("checkpoint", "every " + std::to_string(s.checkpoint_every) + " steps");
  rows.emplace_back("seed", std::to_string(s.seed));
  size_t width = 0;
  for (const auto& r : rows) width = std::max(width, r.first.size());
  std::string out;
  for (const auto& r : rows) out += "  " + r.first + std::string(width - r.first.size() + 2, ' ') + r.second + "\n";
  return out;
}

namespace {

// --- the steps of train_model, in order ----------------------------------------------------

// 1. What the settings must be before anything is read.
void check_settings(const TrainSettings& s) {
  if (s.out.empty()) throw std::runtime_error("no run folder (--out)");
  if (s.steps <= 0 || s.batch <= 0 || s.length <= 0 || s.accumulate <= 0) {
    throw std::runtime_error("--steps, --batch, --length and --accumulate must be positive");
  }
  if (s.workers < 0) throw std::runtime_error("--workers must be 0 or more");
  if (s.focal_gamma < 0) throw std::runtime_error("--focal-gamma must be 0 or more");
  if (!(s.condition_dropout >= 0 && s.condition_dropout <= 1)) throw std::runtime_error("--condition-dropout must be in [0, 1]");
  if (!(s.ema >= 0 && s.ema < 1)) throw std::runtime_error("--ema must be in [0, 1) (0 = off)");
  if (s.device != "cpu" && s.device != "cuda") throw std::runtime_error("unknown --device '" + s.device + "' (cpu or cuda)");
  if (s.device == "cuda" && !runtime::cuda_available()) {
    throw std::runtime_error("--device cuda: this LibTorch has no CUDA support or no GPU is visible (bachgen --version tells)");
  }
}

// 2. The model's spec: a new run's from --preset (and --dropout); a resumed run's from its
// checkpoint, whatever --preset says now, so a resume never builds a model its weights do not
// fit (--dropout, which shapes no weight, still applies).
model::ModelSpec run_spec(const TrainSettings& s, const std::string& vocab, const std::string& last) {
  if (!s.resume) {
    model::ModelSpec spec = model::preset(s.preset, vocab);
    if (s.dropout >= 0) {
      spec.transformer.dropout = s.dropout;
      spec.lstm.dropout = s.dropout;
    }
    return spec;
  }
  model::ModelSpec spec;
  try {
    spec = model::load_model(last).spec;
  } catch (const std::exception& e) {
    throw std::runtime_error(last + ": not a readable checkpoint (--resume continues the run of --out from it): " + e.what());
  }
  if (spec.vocab != vocab) {
    throw std::runtime_error(last + ": the run's model reads " + spec.vocab + ", but --data holds " + vocab + " tokens");
  }
  if (s.dropout >= 0) {  // dropout shapes no weight: a resumed run may change it
    spec.transformer.dropout = s.dropout;
    spec.lstm.dropout = s.dropout;
  }
  return spec;
}

// 3. Data parallel: one process per rank, each on its share of every global batch; rank 0 alone
// logs, validates and writes checkpoints, and broadcasts what the others must know.
struct DataParallel {
  DistEnv dist;
  std::unique_ptr<ProcessGroup> group;
  bool lead() const { return dist.rank == 0; }
  int64_t world() const { return dist.world_size; }
};

DataParallel connect_data_parallel(const TrainSettings& s, bool cuda) {
  DataParallel dp;
  dp.dist = dist_env_from_environment();
  if (!dp.dist.active()) return dp;
  if (s.batch % dp.dist.world_size != 0) {
    throw std::runtime_error("--batch " + std::to_string(s.batch) + " is the global batch: it must divide evenly by the " +
                             std::to_string(dp.dist.world_size) + " processes");
  }
  if (s.overfit_one_batch) throw std::runtime_error("--overfit-one-batch is for one process");
  dp.group = ProcessGroup::connect(dp.dist, cuda, std::chrono::milliseconds(static_cast<int64_t>(s.dist_timeout * 1000)));
  return dp;
}

// 4. The batches: windows of the training shard (the language models predict the next token;
// the conditioning model predicts hidden variables of windows of whole steps,
// data/infill_dataset.h), prepared ahead by loader threads. Micro-batch k of the run
// (k = step * accumulate + a) holds windows k * batch + r; with several processes, rank i
// takes its slice of them, so that the run sees the same windows whatever the number of
// processes (and can resume with another).
class BatchSource {
 public:
  BatchSource(std::shared_ptr<const data::TokenShard> shard, const TrainSettings& s, bool infill, const DataParallel& dp,
              int64_t first_micro_batch, std::vector<tokenize::PieceConditions> conditions) {
    data::WindowOptions wo;
    wo.conditions = std::move(conditions);
    wo.condition_dropout = s.condition_dropout;
    wo.length = s.length;
    wo.seed = s.seed;
    wo.augment = s.augment && !s.overfit_one_batch;
    if (infill) {
      infill_.emplace(shard, wo);
    } else {
      windows_.emplace(shard, wo);
    }
    const int64_t accumulate = s.accumulate, batch = s.batch, local_batch = s.batch / dp.world(), first = dp.dist.rank * local_batch;
    const bool overfit = s.overfit_one_batch;
    loader_.emplace(
        [this, accumulate, batch, local_batch, first, overfit](int64_t k) {
          const int64_t micro = overfit ? k % accumulate : k;
          std::vector<size_t> indices(static_cast<size_t>(local_batch));
          for (int64_t r = 0; r < local_batch; ++r) indices[static_cast<size_t>(r)] = static_cast<size_t>(micro * batch + first + r);
          return infill_ ? infill_->get_batch(indices) : windows_->get_batch(indices);
        },
        first_micro_batch, s.workers, /*depth=*/2 * s.accumulate + 2);
  }
  BatchSource(const BatchSource&) = delete;
  BatchSource& operator=(const BatchSource&) = delete;
  data::TokenBatch next() { return loader_->next(); }

 private:
  std::optional<data::WindowDataset> windows_;
  std::optional<data::InfillDataset> infill_;
  std::optional<data::Prefetcher<data::TokenBatch>> loader_;
};

// 5. Validation, as `bachgen eval` (the conditioning model: its own objective on fixed valid
// windows): rank 0 validates and tells the others the result (the plateau schedule and early
// stopping depend on it); a new best is saved as best.pt.
struct Validation {
  const TrainSettings& settings;
  std::shared_ptr<const data::TokenShard> valid;
  bool infill = false;
  torch::Device device;
  const model::ModelSpec& spec;
  const std::string metrics;  // metrics.jsonl
  // A composer with conditions: validation picks on the NLL with nothing known (the honest
  // figure) and also logs it with everything known (valid_nll_conditioned).
  const std::vector<tokenize::PieceConditions>* conditions = nullptr;

  // Returns whether patience ran out.
  bool run(model::SequenceModelImpl& m, const DataParallel& dp, TensorBoardWriter* board, LrSchedule& schedule, TrainState& st,
           const std::function<double()>& elapsed) const {
    // (On the run's device: NCCL reduces only CUDA tensors.)
    torch::Tensor shared = torch::zeros({1}, torch::TensorOptions().dtype(torch::kFloat64).device(device));
    if (dp.lead()) {
      const double nll = infill ? infill_validation_loss(m, valid, settings.length, settings.batch)
                                : evaluate_shard(m, *valid, settings.eval_window).nll_per_token;
      json line = {{"step", st.step}, {"valid_nll", nll}, {"seconds", elapsed()}};
      if (conditions != nullptr) {
        const double known = evaluate_shard(m, *valid, settings.eval_window, conditions).nll_per_token;
        line["valid_nll_conditioned"] = known;
        board->add_scalar("valid/nll_conditioned", known, st.step);
      }
      m.train();
      append_line(metrics, line.dump());
      board->add_scalar("valid/nll", nll, st.step);
      board->flush();
      shared[0] = nll;
    }
    if (dp.group) dp.group->broadcast(shared, 0);
    const double nll = shared.item<double>();
    schedule.observe(nll);
    if (nll < st.best_valid) {
      st.best_valid = nll;
      st.bad_validations = 0;
      if (dp.lead()) model::save_model(best_checkpoint_path(settings.out), spec, m);
      return false;
    }
    return settings.patience > 0 && ++st.bad_validations >= settings.patience;
  }
};

// 6. One optimizer step: `accumulate` micro-batches forward and backward (gradients all-reduced
// in buckets with several processes), the step unless the fp16 gradients overflowed; and what
// every rank agrees on: the step's loss, and whether any was asked to stop or ran out of time.
struct StepOutcome {
  double loss = 0;
  int64_t tokens = 0;  // over all ranks
  bool stop_signal = false;
  bool out_of_time = false;
};

struct Stepper {
  const TrainSettings& s;
  model::SequenceModelImpl& m;
  torch::optim::AdamW& optimizer;
  GradScaler& scaler;
  const DataParallel& dp;
  GradientBucketer* bucketer;  // null with one process
  torch::Device device;
  runtime::Precision precision;
  std::vector<torch::Tensor> parameters;

  StepOutcome step(BatchSource& batches, double lr, const std::function<double()>& elapsed, double* allreduce_seconds) {
    const bool cuda = device.is_cuda();
    for (auto& group_options : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group_options.options()).lr(lr);
    optimizer.zero_grad();
    StepOutcome out;
    for (int64_t a = 0; a < s.accumulate; ++a) {
      data::TokenBatch b = batches.next();
      if (cuda) {
        b.input = b.input.to(device, /*non_blocking=*/true);
        b.target = b.target.to(device, true);
        b.mask = b.mask.to(device, true);
        b.offset = b.offset.to(device, true);
        if (b.conditions.defined()) b.conditions = b.conditions.to(device, true);
      }
      // Each rank's loss is the mean over its own tokens; weighted by its share of the global
      // micro-batch's tokens, the summed gradients are those of the mean over all of them.
      const int64_t tokens = b.mask.sum().item<int64_t>();
      double share = 1.0;
      int64_t global_tokens = tokens;
      if (dp.group) {
        torch::Tensor count = torch::tensor({static_cast<double>(tokens)}, torch::kFloat64).to(device);
        dp.group->allreduce_sum(count)->wait();
        global_tokens = static_cast<int64_t>(count.item<double>());
        share = static_cast<double>(tokens) / std::max<double>(1.0, static_cast<double>(global_tokens));
      }
      torch::Tensor loss;
      {
        // The forward pass and the loss; backward follows it.
        runtime::Autocast autocast_scope(precision != runtime::Precision::kFp32, cuda, precision == runtime::Precision::kFp16);
        loss = masked_loss(m.forward(b.input, b.offset, b.conditions).to(torch::kFloat32), b.target, b.mask, s.label_smoothing, s.focal_gamma);
      }
      if (bucketer != nullptr && a == s.accumulate - 1) bucketer->arm();
      scaler.scale_loss(dp.group ? loss * (share / static_cast<double>(s.accumulate)) : loss / static_cast<double>(s.accumulate)).backward();
      out.loss += loss.item<double>() * share / static_cast<double>(s.accumulate);
      out.tokens += global_tokens;
    }
    out.stop_signal = g_stop_requested.load();
    out.out_of_time = s.max_minutes > 0 && elapsed() >= 60.0 * s.max_minutes;
    if (bucketer != nullptr) {
      *allreduce_seconds += bucketer->finish().exposed_seconds;
      torch::Tensor agreed =
          torch::tensor({out.loss, out.stop_signal ? 1.0 : 0.0, out.out_of_time ? 1.0 : 0.0}, torch::kFloat64).to(device);
      dp.group->allreduce_sum(agreed)->wait();
      agreed = agreed.cpu();
      out.loss = agreed[0].item<double>();
      out.stop_signal = agreed[1].item<double>() > 0;
      out.out_of_time = agreed[2].item<double>() > 0;
    }
    const bool finite = scaler.unscale(parameters);
    if (finite) {
      if (s.clip > 0) torch::nn::utils::clip_grad_norm_(parameters, s.clip);
      optimizer.step();
    }
    scaler.update(finite);
    return out;
  }
};

// 7. What is logged after a step: metrics.jsonl every step, TensorBoard scalars every
// --log-every steps, the progress line.
struct StepLog {
  const TrainSettings& s;
  const std::string metrics;
  TensorBoardWriter* board;  // null off rank 0
  std::chrono::steady_clock::time_point last_log = std::chrono::steady_clock::now();
  int64_t tokens_since_log = 0;
  double tokens_per_second = 0;

  void add(const TrainState& st, const StepOutcome& o, double lr, double seconds, const GradScaler& scaler, bool data_parallel,
           double allreduce_seconds) {
    tokens_since_log += o.tokens;
    if (board == nullptr) return;
    json line = {{"step", st.step}, {"loss", o.loss}, {"lr", lr}, {"tokens", o.tokens}, {"seconds", seconds}};
    if (data_parallel) line["allreduce_wait"] = allreduce_seconds;
    append_line(metrics, line.dump());
    if (st.step % s.log_every != 0 && st.step != s.steps) return;
    const auto now = std::chrono::steady_clock::now();
    tokens_per_second = tokens_since_log / std::max(std::chrono::duration<double>(now - last_log).count(), 1e-9);
    board->add_scalar("train/loss", o.loss, st.step);
    board->add_scalar("train/lr", lr, st.step);
    board->add_scalar("train/tokens_per_second", tokens_per_second, st.step);
    if (scaler.enabled()) board->add_scalar("train/loss_scale", scaler.scale(), st.step);
    board->flush();
    tokens_since_log = 0;
    last_log = now;
  }

  std::string status(const TrainState& st, const StepOutcome& o, double lr) const {
    char text[160];
    std::snprintf(text, sizeof text, "loss %.4f  lr %.2e  %.0f tok/s%s", o.loss, lr, tokens_per_second,
                  std::isfinite(st.best_valid) ? ("  best valid " + std::to_string(st.best_valid).substr(0, 6)).c_str() : "");
    return text;
  }
};

}  // namespace

TrainResult train_model(const TrainSettings& s) {
  check_settings(s);
  const bool cuda = s.device == "cuda";
  const torch::Device device = cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  const runtime::Precision precision =
      runtime::resolve_precision(runtime::parse_precision(s.precision), runtime::detect_cpu(), cuda);
  const auto train_shard = std::make_shared<const data::TokenShard>(data::read_shard(s.data + "/train.tokens"));
  const auto valid_shard = std::make_shared<const data::TokenShard>(data::read_shard(s.data + "/valid.tokens"));
  const std::string last = last_checkpoint_path(s.out);
  if (!s.resume && std::ifstream(last).good()) {
    throw std::runtime_error(s.out + " already holds a run; pass --resume to continue it, or choose another --out");
  }
  const model::ModelSpec spec = run_spec(s, tokenize::vocab_name(train_shard->vocab), last);  // a bad --preset makes no folder
  io::make_directories(s.out);
  DataParallel dp = connect_data_parallel(s, cuda);

  // The model, its optimizer and schedule, from the start or from the last checkpoint.
  torch::manual_seed(s.seed);
  model::SequenceModel m = model::build_model(spec);
  m->to(device);
  torch::optim::AdamW optimizer(parameter_groups(*m, s.weight_decay));
  ScheduleOptions so;
  so.kind = parse_schedule(s.schedule);
  so.peak_lr = s.lr;
  so.min_lr = s.min_lr;
  so.warmup_steps = s.warmup;
  so.total_steps = s.steps;
  LrSchedule schedule(so);
  GradScaler scaler(precision == runtime::Precision::kFp16);
  TrainState st;
  std::optional<WeightAverage> average;
  if (s.ema > 0) average.emplace(s.ema, m->parameters());
  if (s.resume) load_checkpoint(last, *m, optimizer, schedule, scaler, st, device, average ? &*average : nullptr);
  std::optional<GradientBucketer> bucketer;
  if (dp.group) {
    torch::NoGradGuard no_grad;
    for (torch::Tensor& p : m->parameters()) dp.group->broadcast(p.data(), 0);  // one start for all ranks
    // Each rank its own dropout stream (a resumed run continues from its step).
    torch::manual_seed(s.seed + 1000003ull * static_cast<uint64_t>(dp.dist.rank) + static_cast<uint64_t>(st.step));
    bucketer.emplace(*dp.group, m->parameters(), static_cast<size_t>(s.bucket_mb * (1 << 20)), s.overlap);
  }
  if (dp.lead()) {
    io::write_file_atomically(s.out + "/config.json",
                              json({{"settings", settings_json(s)}, {"model", json::parse(model::spec_to_json(spec))}}).dump(2) + "\n");
  }
  if (!s.quiet && dp.lead()) {
    const std::string summary = std::string(model::model_kind_name(spec.kind)) + " " + model::spec_shape(spec) + ", " +
                                std::to_string(m->parameter_count()) + " parameters";
    std::fprintf(stderr, "bachgen train\n%s", settings_table(s, summary, runtime::precision_name(precision), runtime::threads()).c_str());
    if (s.resume) std::fprintf(stderr, "resumed at step %lld with the run's own model (its checkpoint's spec)\n", static_cast<long long>(st.step));
    if (dp.group) {
      std::fprintf(stderr, "data parallel: %lld processes (gloo), %lld windows each per micro-batch, buckets of %.1f MiB%s\n",
                   static_cast<long long>(dp.world()), static_cast<long long>(s.batch / dp.world()), s.bucket_mb,
                   s.overlap ? ", all-reduced during the backward pass" : ", all-reduced after the backward pass");
    }
  }

  const bool infill = spec.kind == model::ModelKind::kChoraleInfill;
  // A model with conditions (a composer, or a conditioning model) learns them from each piece
  // (data/piece_conditions.h): its length, its key, and its meter where prepare found one. The
  // conditioning model validates on its own objective with nothing known.
  const bool conditioned = (spec.kind == model::ModelKind::kMusicTransformer || infill) && spec.transformer.conditions;
  std::vector<tokenize::PieceConditions> train_conditions, valid_conditions;
  if (conditioned) train_conditions = data::shard_conditions(*train_shard, data::read_split_meters(s.data, "train"));
  if (conditioned && !infill) valid_conditions = data::shard_conditions(*valid_shard, data::read_split_meters(s.data, "valid"));
  BatchSource batches(train_shard, s, infill, dp, st.step * s.accumulate, train_conditions);
  std::optional<TensorBoardWriter> board;
  if (dp.lead()) board.emplace(s.out + "/tensorboard");
  const std::string metrics = s.out + "/metrics.jsonl";
  const Validation validation{s, valid_shard, infill, device, spec, metrics, conditioned && !infill ? &valid_conditions : nullptr};
  Stepper stepper{s, *m, optimizer, scaler, dp, bucketer ? &*bucketer : nullptr, device, precision, m->parameters()};
  StepLog log{s, metrics, board ? &*board : nullptr};
  SignalScope signals;
  TrainResult result;
  result.precision = runtime::precision_name(precision);
  result.rank = dp.dist.rank;
  result.world_size = dp.dist.world_size;
  m->train();
  io::Progress progress("train", static_cast<size_t>(s.steps - st.step), "steps", s.quiet || !dp.lead() ? nullptr : stderr);
  progress.set_plain_every(static_cast<size_t>(s.log_every));
  const auto start = std::chrono::steady_clock::now();
  const double seconds_before = st.train_seconds;
  const std::function<double()> elapsed = [&] {
    return seconds_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  // With --ema the average is what validation scores and best.pt keeps.
  const std::vector<torch::Tensor> parameters = m->parameters();
  const auto validate = [&] {
    if (average) average->swap(parameters);
    const bool out_of_patience = validation.run(*m, dp, board ? &*board : nullptr, schedule, st, elapsed);
    if (average) average->swap(parameters);
    result.stopped_early = out_of_patience || result.stopped_early;
  };
  while (st.step < s.steps) {
    const double lr = schedule.lr_at(st.step);
    const StepOutcome o = stepper.step(batches, lr, elapsed, &result.allreduce_seconds);
    if (average) average->update(parameters, st.step);
    if (st.step == 0) st.first_loss = o.loss;
    ++st.step;
    ++result.steps_done;
    result.last_loss = o.loss;
    log.add(st, o, lr, elapsed(), scaler, dp.group != nullptr, result.allreduce_seconds);
    progress.set_status(log.status(st, o, lr));
    progress.update(static_cast<size_t>(result.steps_done));
    bool validated = false;
    if ((s.eval_every > 0 && st.step % s.eval_every == 0) || st.step == s.steps) {
      validate();
      validated = true;
    }
    if (o.out_of_time) {
      result.stopped_by_time = true;
      if (!validated) validate();
    }
    const bool slice_done = s.stop_after > 0 && result.steps_done >= s.stop_after;
    st.train_seconds = elapsed();
    const bool stop = o.stop_signal || result.stopped_early || slice_done || result.stopped_by_time;
    if (dp.lead() && (stop || st.step == s.steps || (s.checkpoint_every > 0 && st.step % s.checkpoint_every == 0))) {
      save_checkpoint(last, spec, *m, optimizer, schedule, scaler, st, s, average ? &*average : nullptr);
    }
    if (stop) {
      result.stopped_by_signal = o.stop_signal;
      break;
    }
  }
  progress.finish(result.stopped_by_signal ? "(stopped by a signal; resume with --resume)" : "");
  result.first_loss = st.first_loss;
  result.best_valid_nll = std::isfinite(st.best_valid) ? st.best_valid : 0.0;
  result.train_seconds = st.train_seconds;
  result.skipped_steps = scaler.skipped_steps();
  return result;
}

std::string settings_to_json(const TrainSettings& settings) { return settings_json(settings).dump(); }

}  // namespace bachgen::train
