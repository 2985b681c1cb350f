// `bachgen train`: the training loop (AdamW without decay on norms, biases and embeddings,
// learning-rate schedules, gradient clipping and accumulation, label smoothing), validation
// with early stopping, the best checkpoint by validation NLL, the last checkpoint every N steps
// and on SIGINT/SIGTERM, exact resume, metrics.jsonl and TensorBoard scalars. Torch-free
// header; docs/training.md.
#pragma once

#include <cstdint>
#include <string>

namespace bachgen::train {

struct TrainSettings {
  std::string data;              // a folder made by `bachgen prepare`
  std::string preset = "jsb-small";
  std::string out;               // the run folder
  bool resume = false;           // continue the run in `out` from its last checkpoint (its own
                                 // model: the checkpoint's spec, whatever `preset` says)
  int64_t steps = 2000;          // optimizer steps in all
  int64_t batch = 16;            // windows per micro-batch
  int64_t length = 256;          // tokens per window
  int64_t accumulate = 1;        // micro-batches per optimizer step
  std::string schedule = "cosine";  // cosine | inverse-sqrt | step | plateau
  double lr = 1e-3;              // peak learning rate
  double min_lr = 1e-5;
  int64_t warmup = 100;
  double weight_decay = 0.01;    // AdamW, on weight matrices only
  double clip = 1.0;             // gradient norm clip; 0 = off
  double label_smoothing = 0.0;
  double dropout = -1;           // < 0: the preset's
  bool augment = true;
  int64_t eval_every = 200;      // validation every N steps (0 = only at the end)
  int64_t checkpoint_every = 200;  // last checkpoint every N steps
  int64_t log_every = 20;
  int64_t patience = 0;          // early stop after N validations without improvement; 0 = never
  int64_t eval_window = 1024;    // validation scores whole pieces in windows of this length
  uint64_t seed = 1;
  std::string precision = "auto";  // auto | fp32 | bf16 | fp16 (auto: CPU bf16 only on AVX512-BF16 /
                                   // AMX CPUs, else fp32; CUDA fp16 with a gradient scaler)
  std::string device = "cpu";    // cpu | cuda
  int workers = 1;               // loader threads preparing batches ahead (0 = in the training thread)
  double focal_gamma = 0.0;      // > 0: focal loss, each token's loss times (1 - p_target)^gamma
  double ema = 0;                // > 0: keep an exponential moving average of the weights with this
                                 // decay; validation scores it and best.pt holds it (last.pt keeps both)
  double condition_dropout = 0.25;  // models with conditions: a window's are all unknown with this
                                    // probability, else each part is (data/token_dataset.h)
  bool quiet = false;            // no settings table and no progress (tests)
  int64_t stop_after = 0;        // stop (with a checkpoint) after N steps of this invocation;
                                 // 0 = run to --steps. Trains in slices, e.g. per session
  double max_minutes = 0;        // stop (validated, with a checkpoint) once this much training
                                 // time has passed in all slices of the run; 0 = no limit
  bool overfit_one_batch = false;  // every step sees the same batch (the learning test)
  // Data-parallel training (train/distributed.h): with WORLD_SIZE > 1 in the environment, or
  // --nproc N (the command line launches the workers), `batch` is the global batch, split
  // evenly over the processes.
  int nproc = 0;                 // launch this many local workers (the CLI; 0/1 = this process)
  double bucket_mb = 4;          // gradient all-reduce bucket size
  bool overlap = true;           // all-reduce buckets during the backward pass
  double dist_timeout = 300;     // seconds any collective may take before it is an error
};

struct TrainResult {
  std::string precision;       // what auto resolved to
  int64_t steps_done = 0;
  double first_loss = 0;
  double last_loss = 0;
  double best_valid_nll = 0;   // 0 when never validated
  bool stopped_by_signal = false;
  bool stopped_early = false;
  bool stopped_by_time = false;
  double train_seconds = 0;    // training time of the whole run (all slices), validation included
  int64_t skipped_steps = 0;   // fp16 steps skipped by the gradient scaler (inf/NaN gradients)
  int rank = 0, world_size = 1;
  double allreduce_seconds = 0;  // waiting for gradient all-reduces after the backward passes, all steps
};

// The settings table printed at the start of `bachgen train`: one "name  value" row each.
std::string settings_table(const TrainSettings& settings, const std::string& model_summary,
                           const std::string& resolved_precision, int threads);

// Installs SIGINT/SIGTERM handlers for the duration: on either, the current step finishes, the
// last checkpoint is written, and the function returns. Throws std::runtime_error for bad
// settings, data or checkpoints.
TrainResult train_model(const TrainSettings& settings);

// Every setting as a JSON object (what config.json and each checkpoint record).
std::string settings_to_json(const TrainSettings& settings);

// RUN_DIR/last.pt (also a model file) and RUN_DIR/best.pt (the best by validation NLL).
std::string last_checkpoint_path(const std::string& run_dir);
std::string best_checkpoint_path(const std::string& run_dir);

}  // namespace bachgen::train
