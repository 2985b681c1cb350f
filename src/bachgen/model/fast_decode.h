// Batch-1 decoding without LibTorch's operators: the LSTM and the Music Transformer's cached
// step written out as a few fused loops over plain arrays, with AVX2 kernels (runtime checked,
// portable fallbacks), one OpenMP team per token, and weights kept as fp32 or as int8 with one
// scale per output row. At batch 1 a token is ~25 small operators per transformer layer, each
// paying LibTorch's dispatch cost, and every weight is streamed from memory once per token: the
// fused loops remove the first, int8 weights quarter the second (and fit this class of CPU's
// L3). Torch-free header; docs/generation.md ("The fast decoder").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bachgen/tokenize/conditions.h"

namespace bachgen::model {

class SequenceModelImpl;

// How the fast decoder stores the weight matrices (embeddings, norms and biases stay fp32).
enum class DecodeWeights {
  kFp32,  // the model's values: the same results as LibTorch's step up to rounding order
  kInt8,  // per-row symmetric int8 (scale = max |w| / 127): a quarter of the bytes
};
DecodeWeights parse_decode_weights(const std::string& name);  // "fp32" | "int8"; throws otherwise
const char* decode_weights_name(DecodeWeights w);

// A weight matrix (rows x cols, row-major) for y = W x (+ b).
class GemvMatrix {
 public:
  GemvMatrix() = default;
  GemvMatrix(const float* data, int64_t rows, int64_t cols, DecodeWeights format);
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  size_t bytes() const;
  // y[r] = W[r] . x for r in [begin, end) (y indexed like the rows).
  void multiply(const float* x, float* y, int64_t begin, int64_t end) const;

 private:
  int64_t rows_ = 0, cols_ = 0;
  DecodeWeights format_ = DecodeWeights::kFp32;
  std::vector<float> f32_;
  std::vector<int8_t> i8_;
  std::vector<float> scale_;  // int8: per row
};

// --- weights, as plain arrays (filled from a model by make_fast_decoder) -----------------------
struct FastLstmWeights {
  int64_t vocab = 0, d_embed = 0, hidden = 0, layers = 0;
  std::vector<float> embedding;                                   // (vocab, d_embed)
  std::vector<std::vector<float>> w_ih, w_hh, b_ih, b_hh;         // per layer, torch's layout (4H, in)
  std::vector<float> w_out, b_out;                                // (vocab, hidden), (vocab)
};

struct FastTransformerWeights {
  int64_t vocab = 0, d_model = 0, layers = 0, heads = 0, d_ff = 0, max_relative = 0;
  bool relative = true, absolute_positions = false;
  int64_t voice_period = 0;
  std::vector<float> token_embedding;  // (vocab, D)
  std::vector<float> voice_embedding;  // (voice_period, D) or empty
  int64_t beat_steps = 0;
  std::vector<float> beat_embedding;   // (beat_steps, D) or empty
  bool conditions = false;             // the three condition embeddings (tokenize/conditions.h)
  std::vector<float> bar_embedding, end_embedding, key_embedding;  // (kBarIndices | kEndIndices | kKeyIndices, D)
  struct Layer {
    std::vector<float> norm1_w, norm1_b, qkv_w, qkv_b, out_w, out_b, relative;  // relative (M, dh)
    std::vector<float> norm2_w, norm2_b, ff1_w, ff1_b, ff2_w, ff2_b;
  };
  std::vector<Layer> blocks;
  std::vector<float> final_norm_w, final_norm_b;
  std::vector<float> output_w, output_b;  // empty: tied to the token embedding
};

// One sequence, one token at a time.
class FastDecoder {
 public:
  virtual ~FastDecoder() = default;
  // Starts a sequence whose first token sits at absolute position `offset`; `capacity` tokens
  // are expected (more are fine: the cache grows).
  virtual void reset(int64_t offset, int64_t capacity) = 0;
  // What the piece is, for models with conditions (others ignore it); kept across resets until
  // set again. Default: everything unknown.
  virtual void set_conditions(const tokenize::PieceConditions& conditions) { (void)conditions; }
  // Consumes `token` at the next position; returns the next position's logits (vocab floats,
  // valid until the next call).
  virtual const float* step(int32_t token) = 0;
  virtual int64_t vocab_size() const = 0;
  virtual int64_t length() const = 0;  // tokens consumed since reset
  virtual size_t weight_bytes() const = 0;
};

// `threads`: the OpenMP team that computes each token (<= 0: omp_get_max_threads()).
std::unique_ptr<FastDecoder> make_fast_lstm(const FastLstmWeights& weights, DecodeWeights format, int threads = 0);
std::unique_ptr<FastDecoder> make_fast_transformer(const FastTransformerWeights& weights, DecodeWeights format,
                                                   int threads = 0);

// The fast decoder for a model, or nullptr where there is none: models other than the causal
// music-transformer and music-lstm, or parameters not on the CPU. Defined with the models
// (fast_decode_model.cpp); the weights are copied, so the model may go.
// Its team is LibTorch's intra-op thread count (--threads).
std::unique_ptr<FastDecoder> make_fast_decoder(SequenceModelImpl& model, DecodeWeights format);

// Teacher forcing: tokens[0] at absolute position `offset`, each of tokens[1..n) scored given
// what precedes it (what `bachgen eval --decode-weights` reports, through this decoder).
struct SequenceScore {
  double nll = 0;       // summed, nats
  int64_t correct = 0;  // targets that were the argmax
  int64_t count = 0;    // targets scored: n - 1
};
SequenceScore score_sequence(FastDecoder& decoder, const int32_t* tokens, size_t n, int64_t offset = 0);

// Whether the AVX2 kernels run (on CPUs with AVX2, FMA and F16C; elsewhere portable loops,
// the same results up to rounding order, and int8 mode keeps its cache in fp32).
bool fast_decode_uses_avx2();
// For tests and comparisons: false makes decoders built afterwards use the portable loops;
// true restores the AVX2 kernels where the CPU has them.
void fast_decode_use_avx2(bool on);

}  // namespace bachgen::model
