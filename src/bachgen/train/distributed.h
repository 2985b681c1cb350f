// Data-parallel training across processes: the torchrun environment convention (RANK,
// WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) and `--nproc N`, which launches N local
// workers of the same command and watches them. The collectives themselves are in
// train/process_group.h. Torch-free; docs/distributed.md.
#pragma once

#include <string>
#include <vector>

namespace bachgen::train {

struct DistEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  bool active() const { return world_size > 1; }
};

// From the environment; WORLD_SIZE unset (or 1) is a single process. Throws std::runtime_error
// naming a variable that is missing or out of range (RANK >= WORLD_SIZE, a port outside 1-65535).
DistEnv dist_env_from_environment();

// A TCP port on 127.0.0.1 that was free a moment ago (for MASTER_PORT of local workers).
int free_local_port();

// Starts `nproc` copies of `argv` (argv[0] is the program) with RANK = LOCAL_RANK = i,
// WORLD_SIZE = nproc, MASTER_ADDR = 127.0.0.1 and a free MASTER_PORT, each with its output
// prefixed by "[rank i] "; waits for all. When one fails (non-zero exit or a signal) the others
// get SIGTERM, then SIGKILL after `grace_seconds`. Returns 0 when all succeed, else 1 after
// printing which rank failed and how.
int launch_local_workers(const std::vector<std::string>& argv, int nproc, int grace_seconds = 30);

}  // namespace bachgen::train
