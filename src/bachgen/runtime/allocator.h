// How the C heap treats the large, short-lived buffers of tensor work.
//
// glibc's malloc serves every allocation above its mmap threshold (at most 32 MiB) with a fresh
// mmap and gives it back with munmap on free. Training on 512-token windows allocates and frees
// tensors of 16-64 MiB (the attention's batch x heads x T x T scores and their gradients) many
// times per step, so each step page-faults and zeroes hundreds of MiB anew: measured, a
// jsb-meter step at --length 512 ran 8 times slower than with these buffers kept in the heap
// (docs/results.md). keep_large_allocations() makes malloc keep them: no mmap for single
// allocations, and free memory at the top of the heap is given back only above 1 GiB.
// Torch-free, so the programs call it before any tensor exists.
#pragma once

#include <string>

namespace bachgen::runtime {

struct AllocatorTuning {
  bool applied = false;  // false: not glibc, or the user chose their own malloc settings
  std::string reason;    // why not, when not applied
};

// Applies the settings above once for the process, unless the environment already sets glibc
// malloc tunables (GLIBC_TUNABLES, MALLOC_MMAP_MAX_, MALLOC_MMAP_THRESHOLD_,
// MALLOC_TRIM_THRESHOLD_, MALLOC_TOP_PAD_) or BACHGEN_MALLOC=default, which leave malloc as it
// is. Safe to call more than once.
AllocatorTuning keep_large_allocations();

}  // namespace bachgen::runtime
