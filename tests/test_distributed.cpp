// Data-parallel training on c10d (gloo) over loopback: 2 processes with global batch B end with
// the parameters of 1 process with batch B (fp32, 1e-5), with and without overlapped buckets and
// with accumulation; a run resumes with another number of processes; a killed rank makes the
// others stop with a clear error instead of hanging, and the last checkpoint stays loadable.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "bachgen/data/token_shard.h"
#include "bachgen/model/model_file.h"
#include "bachgen/train/distributed.h"
#include "bachgen/train/loss.h"
#include "bachgen/train/process_group.h"
#include "bachgen/train/trainer.h"
#include "cli_run.h"
#include "train_runs.h"

namespace bachgen::train {
namespace {

std::string write_data() { return testing::write_patterned_data(/*pieces=*/8, /*spread=*/3); }
using testing::fresh_run;

// lr 1e-4: Adam divides each gradient by its own running size, so where the true gradient is
// zero (the attention's key bias: softmax ignores a constant) it turns the summation-order
// noise of 1e-9 into steps of about lr in either direction. At 3e-3 that made 8e-5 of
// difference there after 5 steps (and below 1e-6 everywhere else); the gradients themselves are
// compared exactly in GradientsSumAcrossRanks.
std::string common_flags(const std::string& data) {
  return "train --data '" + data + "' --preset tiny --batch 4 --length 32 --dropout 0 --no-augment --eval-every 0 " +
         "--checkpoint-every 1 --workers 0 --precision fp32 --warmup 2 --lr 1e-4";
}

// The largest difference between the two models' parameters, and where it is.
struct Difference {
  double most = 0;
  std::string where;
};
std::ostream& operator<<(std::ostream& out, const Difference& d) { return out << d.most << " in " << d.where; }
bool operator<(const Difference& d, double limit) { return d.most < limit; }

Difference max_difference(const std::string& a, const std::string& b) {
  const model::LoadedModel x = model::load_model(a), y = model::load_model(b);
  const auto px = x.model->named_parameters(), py = y.model->named_parameters();
  EXPECT_EQ(px.size(), py.size());
  Difference d;
  for (const auto& item : px) {
    const double here = (item.value() - py[item.key()]).abs().max().item<double>();
    if (here > d.most) d = {here, item.key() + " (|value| up to " + std::to_string(item.value().abs().max().item<double>()) + ")"};
  }
  return d;
}

std::vector<double> losses(const std::string& run) { return testing::logged_losses(run); }

TEST(Distributed, TheEnvironmentFollowsTorchrun) {
  for (const char* name : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) unsetenv(name);
  EXPECT_FALSE(dist_env_from_environment().active());
  setenv("WORLD_SIZE", "4", 1);
  setenv("RANK", "2", 1);
  setenv("MASTER_ADDR", "10.0.0.5", 1);
  setenv("MASTER_PORT", "29611", 1);
  const DistEnv e = dist_env_from_environment();
  EXPECT_TRUE(e.active());
  EXPECT_EQ(e.rank, 2);
  EXPECT_EQ(e.world_size, 4);
  EXPECT_EQ(e.local_rank, 2);  // defaults to RANK
  EXPECT_EQ(e.master_addr, "10.0.0.5");
  EXPECT_EQ(e.master_port, 29611);
  setenv("RANK", "4", 1);
  EXPECT_THROW(dist_env_from_environment(), std::runtime_error);  // RANK >= WORLD_SIZE
  setenv("RANK", "x", 1);
  EXPECT_THROW(dist_env_from_environment(), std::runtime_error);
  unsetenv("RANK");
  try {
    dist_env_from_environment();
    ADD_FAILURE();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("RANK"), std::string::npos);
  }
  setenv("RANK", "0", 1);
  setenv("MASTER_PORT", "70000", 1);
  EXPECT_THROW(dist_env_from_environment(), std::runtime_error);
  for (const char* name : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) unsetenv(name);
  const int port = free_local_port();
  EXPECT_GT(port, 0);
  EXPECT_LT(port, 65536);
}

// Two ranks as two threads of this process, each with its own gloo group: the bucketer's sums
// over two micro-batches each (accumulation), weighted as the trainer weights them, equal the
// gradients of one model on the whole batch, overlapped in small buckets or not.
TEST(Distributed, GradientsSumAcrossRanks) {
  const model::ModelSpec spec = model::preset("tiny", "satb16");
  torch::manual_seed(3);
  const torch::Tensor tokens = torch::randint(3, 50, {2, 4, 17}, torch::kInt64);  // (micro, B, T + 1)
  const torch::Tensor input = tokens.narrow(2, 0, 16), target = tokens.narrow(2, 1, 16);
  torch::Tensor mask = torch::ones({2, 4, 16});
  mask.index_put_({0, 3}, 0);  // rank 1's first micro-batch has fewer tokens than rank 0's
  mask.index_put_({1, 0, torch::indexing::Slice(0, 5)}, 0);
  const auto build = [&spec] {
    torch::manual_seed(11);
    model::SequenceModel m = model::build_model(spec);
    return m;
  };
  // One process, the whole batch: the mean over each micro-batch's tokens, averaged.
  model::SequenceModel reference = build();
  for (int64_t a = 0; a < 2; ++a) {
    (masked_loss(reference->forward(input[a]), target[a], mask[a]) / 2.0).backward();
  }
  for (const bool overlap : {true, false}) {
    const int port = free_local_port();
    std::vector<model::SequenceModel> models = {build(), build()};
    std::vector<std::string> errors(2);
    std::vector<std::thread> ranks;
    for (int rank = 0; rank < 2; ++rank) {
      ranks.emplace_back([&, rank] {
        try {
          DistEnv env;
          env.rank = rank;
          env.world_size = 2;
          env.master_port = port;
          std::unique_ptr<ProcessGroup> group = ProcessGroup::connect(env, false, std::chrono::seconds(60));
          model::SequenceModelImpl& m = *models[static_cast<size_t>(rank)];
          GradientBucketer bucketer(*group, m.parameters(), /*bucket_bytes=*/8192, overlap);
          for (int64_t a = 0; a < 2; ++a) {
            const auto rows = torch::indexing::Slice(2 * rank, 2 * rank + 2);
            const torch::Tensor my_mask = mask[a].index({rows});
            torch::Tensor count = my_mask.sum().to(torch::kFloat64).reshape({1});
            const double mine = count.item<double>();
            group->allreduce_sum(count)->wait();
            const double share = mine / count.item<double>();
            if (a == 1) bucketer.arm();
            (masked_loss(m.forward(input[a].index({rows})), target[a].index({rows}), my_mask) * (share / 2.0)).backward();
          }
          bucketer.finish();
        } catch (const std::exception& e) {
          errors[static_cast<size_t>(rank)] = e.what();
        }
      });
    }
    for (std::thread& t : ranks) t.join();
    ASSERT_EQ(errors[0], "");
    ASSERT_EQ(errors[1], "");
    const auto want = reference->named_parameters();
    for (const model::SequenceModel& m : models) {
      for (const auto& item : m->named_parameters()) {
        const torch::Tensor expected = want[item.key()].grad();
        ASSERT_TRUE(item.value().grad().defined()) << item.key();
        const double error = (item.value().grad() - expected).abs().max().item<double>();
        EXPECT_LT(error, 1e-6 + 1e-5 * expected.abs().max().item<double>()) << item.key() << (overlap ? " overlapped" : " after");
      }
    }
  }
}

TEST(Distributed, TwoProcessesEndWhereOneDoes) {
  const std::string data = write_data();
  const std::string one = fresh_run("one"), overlap = fresh_run("overlap"), after = fresh_run("after");
  const std::string steps = " --steps 5 --accumulate 2";
  testing::CliResult r = testing::run_command(BACHGEN_CLI, common_flags(data) + steps + " --out '" + one + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Overlapped, in many small buckets (so several all-reduces run during the backward pass).
  r = testing::run_command(BACHGEN_CLI, common_flags(data) + steps + " --nproc 2 --bucket-mb 0.01 --out '" + overlap + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("[rank 0] data parallel: 2 processes"), std::string::npos) << r.err;
  // After the backward pass, in one bucket.
  r = testing::run_command(BACHGEN_CLI, common_flags(data) + steps + " --nproc 2 --no-overlap --out '" + after + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(max_difference(one + "/last.pt", overlap + "/last.pt"), 1e-5);
  EXPECT_LT(max_difference(one + "/last.pt", after + "/last.pt"), 1e-5);
  const std::vector<double> a = losses(one), b = losses(overlap);
  ASSERT_EQ(a.size(), 5u);
  ASSERT_EQ(b.size(), 5u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5) << "step " << i + 1;
  // Only rank 0 wrote the run folder's files, once each.
  std::ifstream metrics(overlap + "/metrics.jsonl");
  int lines = 0;
  for (std::string line; std::getline(metrics, line);) ++lines;
  EXPECT_EQ(lines, 6);  // 5 steps + the final validation
}

TEST(Distributed, ARunResumesWithAnotherNumberOfProcesses) {
  const std::string data = write_data();
  const std::string one = fresh_run("whole"), parts = fresh_run("parts");
  testing::CliResult r = testing::run_command(BACHGEN_CLI, common_flags(data) + " --steps 6 --out '" + one + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = testing::run_command(BACHGEN_CLI, common_flags(data) + " --steps 6 --stop-after 3 --nproc 2 --out '" + parts + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = testing::run_command(BACHGEN_CLI, common_flags(data) + " --steps 6 --resume --out '" + parts + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(losses(parts).size(), 6u);
  EXPECT_LT(max_difference(one + "/last.pt", parts + "/last.pt"), 1e-5);
}

TEST(Distributed, AKilledRankStopsTheOthersWithAClearError) {
  const std::string data = write_data();
  const std::string run = fresh_run("killed");
  const int port = free_local_port();
  // Two workers started by hand (torchrun's way); rank 1 is killed once training runs.
  const std::string script = testing::test_file("kill.sh");
  {
    std::ofstream sh(script);
    const std::string train = "'" + std::string(BACHGEN_CLI) + "' --threads 1 " + common_flags(data) +
                              " --steps 100000 --dist-timeout 600 --out '" + run + "'";
    sh << "export WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" << port << "\n"
       << "RANK=0 " << train << " > '" << run << ".rank0.out' 2>&1 &\nzero=$!\n"
       << "RANK=1 " << train << " > '" << run << ".rank1.out' 2>&1 &\none=$!\n"
       << "for i in $(seq 1200); do [ \"$(wc -l < '" << run << "/metrics.jsonl' 2>/dev/null || echo 0)\" -ge 3 ] && break; sleep 0.1; done\n"
       << "kill -KILL $one\nstart=$(date +%s)\nwait $zero\necho \"rank0 exit $? after $(( $(date +%s) - start )) s\"\n";
  }
  const auto start = std::chrono::steady_clock::now();
  const testing::CliResult r = testing::run_command("bash", "'" + script + "'");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(r.out.find("rank0 exit 1"), std::string::npos) << r.out << testing::slurp(run + ".rank0.out");
  EXPECT_LT(seconds, 120) << "rank 0 must notice the dead peer, not wait for --dist-timeout (600 s)";
  const std::string err = testing::slurp(run + ".rank0.out");
  EXPECT_NE(err.find("bachgen: "), std::string::npos) << err;
  // The last checkpoint on disk is whole.
  const model::LoadedModel loaded = model::load_model(last_checkpoint_path(run));
  EXPECT_STREQ(model::model_kind_name(loaded.spec.kind), "music-transformer");
}

TEST(Distributed, TheLauncherReportsAKilledWorker) {
  const std::string data = write_data();
  const std::string run = fresh_run("launched");
  const std::string script = testing::test_file("launch.sh");
  {
    std::ofstream sh(script);
    sh << "'" << BACHGEN_CLI << "' " << common_flags(data) << " --steps 100000 --nproc 2 --out '" << run << "' 2> '" << run
       << ".err' &\nlauncher=$!\n"
       << "for i in $(seq 1200); do [ \"$(wc -l < '" << run << "/metrics.jsonl' 2>/dev/null || echo 0)\" -ge 3 ] && break; sleep 0.1; done\n"
       << "kill -KILL $(pgrep -P $launcher | tail -1)\nwait $launcher\necho \"launcher exit $?\"\n";
  }
  const testing::CliResult r = testing::run_command("bash", "'" + script + "'");
  const std::string err = testing::slurp(run + ".err");
  EXPECT_NE(r.out.find("launcher exit 1"), std::string::npos) << r.out << err;
  EXPECT_NE(err.find("rank 1 of 2 was killed by signal 9"), std::string::npos) << err;
  EXPECT_NO_THROW(model::load_model(last_checkpoint_path(run)));
}

TEST(Distributed, BadSettingsAreClear) {
  const std::string data = write_data();
  testing::CliResult r = testing::run_command(
      BACHGEN_CLI, "train --data '" + data + "' --preset tiny --steps 2 --batch 3 --nproc 2 --out '" + fresh_run("odd") + "'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("must divide evenly by the 2 processes"), std::string::npos) << r.err;
  r = testing::run_command("env", "WORLD_SIZE=2 '" + std::string(BACHGEN_CLI) + "' " + common_flags(data) + " --steps 2 --out '" + fresh_run("norank") + "'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("RANK is not"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace bachgen::train
