// The fast batch-1 decoder: kernels (AVX2 with portable fallbacks), the LSTM and the Music
// Transformer step over plain arrays. No LibTorch here (fast_decode_model.cpp fills the
// weights from a model).
#include "bachgen/model/fast_decode.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <stdexcept>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define BACHGEN_X86 1
#define BACHGEN_AVX2 __attribute__((target("avx2,fma,f16c")))
#else
#define BACHGEN_X86 0
#endif

namespace bachgen::model {

DecodeWeights parse_decode_weights(const std::string& name) {
  if (name == "fp32") return DecodeWeights::kFp32;
  if (name == "int8") return DecodeWeights::kInt8;
  throw std::invalid_argument("unknown decoder weights '" + name + "' (fp32 or int8)");
}

const char* decode_weights_name(DecodeWeights w) { return w == DecodeWeights::kInt8 ? "int8" : "fp32"; }

namespace {

// ============================================================================================
// Kernels
// ============================================================================================

bool detect_avx2() {
#if BACHGEN_X86
  __builtin_cpu_init();  // this runs as a static initializer, possibly before libgcc's own
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
  return false;
#endif
}
const bool kCpuHasAvx2 = detect_avx2();  // with FMA and F16C (every AVX2 CPU has F16C)
std::atomic<bool> g_avx2{kCpuHasAvx2};     // off: the portable loops (fast_decode_use_avx2)

// --- portable ---------------------------------------------------------------------------------
void gemv_f32_portable(const float* w, int64_t cols, const float* x, float* y, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const float* row = w + r * cols;
    float s = 0;
    for (int64_t j = 0; j < cols; ++j) s += row[j] * x[j];
    y[r] = s;
  }
}

void gemv_i8_portable(const int8_t* w, const float* scale, int64_t cols, const float* x, float* y, int64_t begin,
                      int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const int8_t* row = w + r * cols;
    float s = 0;
    for (int64_t j = 0; j < cols; ++j) s += static_cast<float>(row[j]) * x[j];
    y[r] = s * scale[r];
  }
}

void axpy_portable(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// out[8 i + k] = sum_d q[d] tiles[i][d][k] for `n` tiles of (dh, 8).
void tile_dots_portable(const float* q, const float* tiles, int64_t n, int64_t dh, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const float* t = tiles + i * dh * 8;
    for (int64_t k = 0; k < 8; ++k) {
      float s = 0;
      for (int64_t d = 0; d < dh; ++d) s += q[d] * t[d * 8 + k];
      out[i * 8 + k] = s;
    }
  }
}

float sigmoid(float v) { return 1.0f / (1.0f + std::exp(-v)); }

#if BACHGEN_X86
// --- AVX2 -------------------------------------------------------------------------------------
BACHGEN_AVX2 inline float hsum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

// e^x for x in [-87, 88] (clamped outside): x = n ln 2 + r, |r| <= ln 2 / 2, e^r by the
// degree-6 minimax polynomial of the Cephes library's expf, 2^n through the exponent bits.
// Relative error about 2e-7.
BACHGEN_AVX2 inline __m256 exp256(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

BACHGEN_AVX2 inline __m256 sigmoid256(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, exp256(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

BACHGEN_AVX2 inline __m256 tanh256(__m256 x) {  // 2 sigmoid(2x) - 1
  const __m256 s = sigmoid256(_mm256_add_ps(x, x));
  return _mm256_sub_ps(_mm256_add_ps(s, s), _mm256_set1_ps(1.0f));
}

// erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7), for the exact GELU.
BACHGEN_AVX2 inline __m256 erf256(__m256 x) {
  const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
  const __m256 a = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  const __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(a, _mm256_set1_ps(0.3275911f), _mm256_set1_ps(1.0f)));
  __m256 p = _mm256_set1_ps(1.061405429f);
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
  p = _mm256_mul_ps(p, t);
  const __m256 e = exp256(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(a, a)));
  const __m256 y = _mm256_fnmadd_ps(p, e, _mm256_set1_ps(1.0f));
  return _mm256_or_ps(y, sign);
}

// Eight weights or cache entries as floats: fp32, int8 (the row's scale applied later) or fp16.
BACHGEN_AVX2 inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
BACHGEN_AVX2 inline __m256 load8(const int8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}
BACHGEN_AVX2 inline __m256 load8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
BACHGEN_AVX2 inline float to_float(float v) { return v; }
BACHGEN_AVX2 inline float to_float(int8_t v) { return static_cast<float>(v); }
BACHGEN_AVX2 inline float to_float(uint16_t v) { return _cvtsh_ss(v); }

BACHGEN_AVX2 uint16_t to_half_f16c(float v) { return _cvtss_sh(v, _MM_FROUND_TO_NEAREST_INT); }

// y[r] = scale[r] (W[r] . x) for r in [begin, end); no scale: 1. Four rows at a time share
// each load of x.
template <typename W>
struct GemvRows {
  const float* scale;
  int64_t cols, c8;
  const float* x;
  float* y;
  // Row r's sum: the 8 lanes, the columns past the last multiple of 8, the scale.
  BACHGEN_AVX2 void finish(int64_t r, __m256 acc, const W* row) const {
    float s = hsum(acc);
    for (int64_t j = c8; j < cols; ++j) s += to_float(row[j]) * x[j];
    y[r] = scale != nullptr ? s * scale[r] : s;
  }
};

template <typename W>
BACHGEN_AVX2 void gemv_avx2(const W* w, const float* scale, int64_t cols, const float* x, float* y, int64_t begin,
                            int64_t end) {
  const int64_t c8 = cols & ~int64_t{7};
  const GemvRows<W> out{scale, cols, c8, x, y};
  int64_t r = begin;
  for (; r + 4 <= end; r += 4) {
    const W* w0 = w + r * cols;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (int64_t j = 0; j < c8; j += 8) {
      const __m256 xv = _mm256_loadu_ps(x + j);
      a0 = _mm256_fmadd_ps(load8(w0 + j), xv, a0);
      a1 = _mm256_fmadd_ps(load8(w0 + cols + j), xv, a1);
      a2 = _mm256_fmadd_ps(load8(w0 + 2 * cols + j), xv, a2);
      a3 = _mm256_fmadd_ps(load8(w0 + 3 * cols + j), xv, a3);
    }
    out.finish(r, a0, w0), out.finish(r + 1, a1, w0 + cols), out.finish(r + 2, a2, w0 + 2 * cols), out.finish(r + 3, a3, w0 + 3 * cols);
  }
  for (; r < end; ++r) {
    const W* w0 = w + r * cols;
    __m256 a0 = _mm256_setzero_ps();
    for (int64_t j = 0; j < c8; j += 8) a0 = _mm256_fmadd_ps(load8(w0 + j), _mm256_loadu_ps(x + j), a0);
    out.finish(r, a0, w0);
  }
}

// out[8 i + k] = sum_d q[d] tiles[i][d][k] for `n` tiles of (dh, 8).
template <typename T>
BACHGEN_AVX2 void tile_dots_avx2(const float* q, const T* tiles, int64_t n, int64_t dh, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const T* t = tiles + i * dh * 8;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t d = 0;
    for (; d + 4 <= dh; d += 4) {
      a0 = _mm256_fmadd_ps(_mm256_set1_ps(q[d]), load8(t + d * 8), a0);
      a1 = _mm256_fmadd_ps(_mm256_set1_ps(q[d + 1]), load8(t + d * 8 + 8), a1);
      a2 = _mm256_fmadd_ps(_mm256_set1_ps(q[d + 2]), load8(t + d * 8 + 16), a2);
      a3 = _mm256_fmadd_ps(_mm256_set1_ps(q[d + 3]), load8(t + d * 8 + 24), a3);
    }
    for (; d < dh; ++d) a0 = _mm256_fmadd_ps(_mm256_set1_ps(q[d]), load8(t + d * 8), a0);
    _mm256_storeu_ps(out + i * 8, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  }
}

// y = sum_j w[j] rows[j], rows (n, width) row-major.
template <typename T>
BACHGEN_AVX2 void weighted_rows_avx2(const float* w, const T* rows, int64_t n, int64_t width, float* y) {
  int64_t c = 0;
  for (; c + 32 <= width; c += 32) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    const T* p = rows + c;
    for (int64_t j = 0; j < n; ++j, p += width) {
      const __m256 wj = _mm256_set1_ps(w[j]);
      a0 = _mm256_fmadd_ps(wj, load8(p), a0);
      a1 = _mm256_fmadd_ps(wj, load8(p + 8), a1);
      a2 = _mm256_fmadd_ps(wj, load8(p + 16), a2);
      a3 = _mm256_fmadd_ps(wj, load8(p + 24), a3);
    }
    _mm256_storeu_ps(y + c, a0), _mm256_storeu_ps(y + c + 8, a1), _mm256_storeu_ps(y + c + 16, a2), _mm256_storeu_ps(y + c + 24, a3);
  }
  for (; c + 8 <= width; c += 8) {
    __m256 a0 = _mm256_setzero_ps();
    const T* p = rows + c;
    for (int64_t j = 0; j < n; ++j, p += width) a0 = _mm256_fmadd_ps(_mm256_set1_ps(w[j]), load8(p), a0);
    _mm256_storeu_ps(y + c, a0);
  }
  for (; c < width; ++c) {
    float s = 0;
    for (int64_t j = 0; j < n; ++j) s += w[j] * to_float(rows[j * width + c]);
    y[c] = s;
  }
}

BACHGEN_AVX2 void softmax_avx2(float* v, int64_t n) {
  __m256 mv = _mm256_set1_ps(-INFINITY);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(v + i));
  float m = -INFINITY;
  {
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, mv);
    for (float l : lanes) m = std::max(m, l);
    for (int64_t k = i; k < n; ++k) m = std::max(m, v[k]);
  }
  const __m256 mb = _mm256_set1_ps(m);
  __m256 sv = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(v + i), mb));
    _mm256_storeu_ps(v + i, e);
    sv = _mm256_add_ps(sv, e);
  }
  float s = hsum(sv);
  for (int64_t k = i; k < n; ++k) s += (v[k] = std::exp(v[k] - m));
  const __m256 inv = _mm256_set1_ps(1.0f / s);
  for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(v + i, _mm256_mul_ps(_mm256_loadu_ps(v + i), inv));
  for (int64_t k = i; k < n; ++k) v[k] /= s;
}

// v = v + b, then the exact GELU: 0.5 v (1 + erf(v / sqrt 2)).
BACHGEN_AVX2 void bias_gelu_avx2(float* v, const float* b, int64_t begin, int64_t end) {
  int64_t i = begin;
  const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f), rs2 = _mm256_set1_ps(0.70710678118654752f);
  for (; i + 8 <= end; i += 8) {
    const __m256 x = _mm256_add_ps(_mm256_loadu_ps(v + i), _mm256_loadu_ps(b + i));
    _mm256_storeu_ps(v + i, _mm256_mul_ps(_mm256_mul_ps(half, x), _mm256_add_ps(one, erf256(_mm256_mul_ps(x, rs2)))));
  }
  for (; i < end; ++i) {
    const float x = v[i] + b[i];
    v[i] = 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
  }
}

// An LSTM cell over a block of 8 units whose gate rows are [i(8) f(8) g(8) o(8)].
BACHGEN_AVX2 void lstm_cell8_avx2(const float* gates, float* c, float* h) {
  const __m256 i = sigmoid256(_mm256_loadu_ps(gates));
  const __m256 f = sigmoid256(_mm256_loadu_ps(gates + 8));
  const __m256 g = tanh256(_mm256_loadu_ps(gates + 16));
  const __m256 o = sigmoid256(_mm256_loadu_ps(gates + 24));
  const __m256 cn = _mm256_fmadd_ps(f, _mm256_loadu_ps(c), _mm256_mul_ps(i, g));
  _mm256_storeu_ps(c, cn);
  _mm256_storeu_ps(h, _mm256_mul_ps(o, tanh256(cn)));
}
#endif  // BACHGEN_X86

// --- dispatch ---------------------------------------------------------------------------------
void gemv_f32(const float* w, int64_t cols, const float* x, float* y, int64_t begin, int64_t end) {
#if BACHGEN_X86
  if (g_avx2) return gemv_avx2<float>(w, nullptr, cols, x, y, begin, end);
#endif
  gemv_f32_portable(w, cols, x, y, begin, end);
}

void gemv_i8(const int8_t* w, const float* scale, int64_t cols, const float* x, float* y, int64_t begin, int64_t end) {
#if BACHGEN_X86
  if (g_avx2) return gemv_avx2<int8_t>(w, scale, cols, x, y, begin, end);
#endif
  gemv_i8_portable(w, scale, cols, x, y, begin, end);
}


void weighted_rows(const float* w, const float* rows, int64_t n, int64_t width, float* y) {
#if BACHGEN_X86
  if (g_avx2) return weighted_rows_avx2<float>(w, rows, n, width, y);
#endif
  std::fill(y, y + width, 0.0f);
  for (int64_t j = 0; j < n; ++j) axpy_portable(w[j], rows + j * width, y, width);
}

void tile_dots_f32(const float* q, const float* tiles, int64_t n, int64_t dh, float* out) {
#if BACHGEN_X86
  if (g_avx2) return tile_dots_avx2<float>(q, tiles, n, dh, out);
#endif
  tile_dots_portable(q, tiles, n, dh, out);
}

// The fp16 cache is only made where the AVX2 kernels run (and with it the AVX2 kernels).
void tile_dots_f16(const float* q, const uint16_t* tiles, int64_t n, int64_t dh, float* out) {
#if BACHGEN_X86
  tile_dots_avx2<uint16_t>(q, tiles, n, dh, out);
#else
  (void)q, (void)tiles, (void)n, (void)dh, (void)out;
  throw std::logic_error("fp16 cache without F16C");
#endif
}

void weighted_rows_f16(const float* w, const uint16_t* rows, int64_t n, int64_t width, float* y) {
#if BACHGEN_X86
  weighted_rows_avx2<uint16_t>(w, rows, n, width, y);
#else
  (void)w, (void)rows, (void)n, (void)width, (void)y;
  throw std::logic_error("fp16 cache without F16C");
#endif
}

uint16_t to_half(float v) {
#if BACHGEN_X86
  return to_half_f16c(v);
#else
  (void)v;
  throw std::logic_error("fp16 cache without F16C");
#endif
}

void softmax(float* v, int64_t n) {
#if BACHGEN_X86
  if (g_avx2) return softmax_avx2(v, n);
#endif
  float m = -INFINITY;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, v[i]);
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += (v[i] = std::exp(v[i] - m));
  for (int64_t i = 0; i < n; ++i) v[i] /= s;
}

void bias_gelu(float* v, const float* b, int64_t begin, int64_t end) {
#if BACHGEN_X86
  if (g_avx2) return bias_gelu_avx2(v, b, begin, end);
#endif
  for (int64_t i = begin; i < end; ++i) {
    const float x = v[i] + b[i];
    v[i] = 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
  }
}

// One block of `block` units: gate rows [i f g o], each `block` long.
void lstm_cell(const float* gates, float* c, float* h, int64_t block) {
#if BACHGEN_X86
  if (g_avx2 && block == 8) return lstm_cell8_avx2(gates, c, h);
#endif
  for (int64_t k = 0; k < block; ++k) {
    const float i = sigmoid(gates[k]), f = sigmoid(gates[block + k]);
    const float g = std::tanh(gates[2 * block + k]), o = sigmoid(gates[3 * block + k]);
    c[k] = f * c[k] + i * g;
    h[k] = o * std::tanh(c[k]);
  }
}

void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t n) {
  double mean = 0;
  for (int64_t i = 0; i < n; ++i) mean += x[i];
  mean /= static_cast<double>(n);
  double var = 0;
  for (int64_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= static_cast<double>(n);
  const float inv = static_cast<float>(1.0 / std::sqrt(var + 1e-5));  // LayerNorm's default eps
  const float m = static_cast<float>(mean);
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) * inv * w[i] + b[i];
}

// Thread t's share of n items, in multiples of `grain` (the last share takes the rest).
std::pair<int64_t, int64_t> share(int64_t n, int t, int teams, int64_t grain = 4) {
  const int64_t units = (n + grain - 1) / grain;
  const int64_t begin = std::min(n, units * t / teams * grain);
  const int64_t end = std::min(n, units * (t + 1) / teams * grain);
  return {begin, end};
}

void expect_size(const std::vector<float>& v, int64_t n, const std::string& what) {
  if (static_cast<int64_t>(v.size()) != n) {
    throw std::invalid_argument("fast decoder: " + what + " has " + std::to_string(v.size()) + " values, not " + std::to_string(n));
  }
}

int team_size(int threads) { return threads > 0 ? threads : std::max(1, omp_get_max_threads()); }

// ============================================================================================
// LSTM
// ============================================================================================

class FastLstm final : public FastDecoder {
 public:
  FastLstm(const FastLstmWeights& w, DecodeWeights format, int threads)
      : vocab_(w.vocab), embed_(w.d_embed), hidden_(w.hidden), layers_(w.layers), threads_(team_size(threads)) {
    if (w.layers < 1 || w.hidden < 1 || w.vocab < 1) throw std::invalid_argument("fast LSTM: empty weights");
    expect_size(w.embedding, w.vocab * w.d_embed, "the embedding");
    expect_size(w.w_out, w.vocab * w.hidden, "the output weight");
    expect_size(w.b_out, w.vocab, "the output bias");
    if (static_cast<int64_t>(w.w_ih.size()) != w.layers || static_cast<int64_t>(w.w_hh.size()) != w.layers ||
        static_cast<int64_t>(w.b_ih.size()) != w.layers || static_cast<int64_t>(w.b_hh.size()) != w.layers) {
      throw std::invalid_argument("fast LSTM: weights for another number of layers");
    }
    for (int64_t l = 0; l < w.layers; ++l) {
      const std::string k = " of layer " + std::to_string(l);
      expect_size(w.w_ih[l], 4 * w.hidden * (l == 0 ? w.d_embed : w.hidden), "weight_ih" + k);
      expect_size(w.w_hh[l], 4 * w.hidden * w.hidden, "weight_hh" + k);
      expect_size(w.b_ih[l], 4 * w.hidden, "bias_ih" + k);
      expect_size(w.b_hh[l], 4 * w.hidden, "bias_hh" + k);
    }
    embedding_ = w.embedding;
    block_ = hidden_ % 8 == 0 ? 8 : 1;
    // Each layer's two products as one: rows regrouped by blocks of units, [i f g o] per
    // block, over the input [x | h]; the two biases summed.
    for (int64_t l = 0; l < layers_; ++l) {
      const int64_t in = l == 0 ? embed_ : hidden_;
      const int64_t cols = in + hidden_;
      std::vector<float> m(static_cast<size_t>(4 * hidden_ * cols));
      std::vector<float> bias(static_cast<size_t>(4 * hidden_));
      for (int64_t u = 0; u < hidden_; ++u) {
        const int64_t blk = u / block_, k = u % block_;
        for (int64_t g = 0; g < 4; ++g) {
          const int64_t src = g * hidden_ + u;                       // torch's row: gate g, unit u
          const int64_t dst = blk * 4 * block_ + g * block_ + k;     // ours
          std::memcpy(&m[static_cast<size_t>(dst * cols)], &w.w_ih[l][static_cast<size_t>(src * in)], sizeof(float) * in);
          std::memcpy(&m[static_cast<size_t>(dst * cols + in)], &w.w_hh[l][static_cast<size_t>(src * hidden_)],
                      sizeof(float) * hidden_);
          bias[static_cast<size_t>(dst)] = w.b_ih[l][static_cast<size_t>(src)] + w.b_hh[l][static_cast<size_t>(src)];
        }
      }
      gates_w_.emplace_back(m.data(), 4 * hidden_, cols, format);
      gates_b_.push_back(std::move(bias));
      inputs_.emplace_back(static_cast<size_t>(cols), 0.0f);
    }
    out_w_ = GemvMatrix(w.w_out.data(), vocab_, hidden_, format);
    out_b_ = w.b_out;
    c_.assign(static_cast<size_t>(layers_ * hidden_), 0.0f);
    h_new_.assign(static_cast<size_t>(layers_ * hidden_), 0.0f);
    gates_.assign(static_cast<size_t>(4 * hidden_), 0.0f);
    logits_.assign(static_cast<size_t>(vocab_), 0.0f);
  }

  void reset(int64_t, int64_t) override {
    for (auto& in : inputs_) std::fill(in.begin(), in.end(), 0.0f);
    std::fill(c_.begin(), c_.end(), 0.0f);
    length_ = 0;
  }

  const float* step(int32_t token) override {
    if (token < 0 || token >= vocab_) throw std::out_of_range("token " + std::to_string(token) + " is outside the vocabulary");
    std::memcpy(inputs_[0].data(), &embedding_[static_cast<size_t>(token) * embed_], sizeof(float) * embed_);
    const int64_t blocks = hidden_ / block_;
#pragma omp parallel num_threads(threads_)
    {
      const int t = omp_get_thread_num(), teams = omp_get_num_threads();
      const auto [b0, b1] = share(blocks, t, teams, 1);
      for (int64_t l = 0; l < layers_; ++l) {
        gates_w_[l].multiply(inputs_[l].data(), gates_.data(), b0 * 4 * block_, b1 * 4 * block_);
        for (int64_t b = b0; b < b1; ++b) {
          float* g = &gates_[static_cast<size_t>(b * 4 * block_)];
          const float* bias = &gates_b_[l][static_cast<size_t>(b * 4 * block_)];
          for (int64_t k = 0; k < 4 * block_; ++k) g[k] += bias[k];
          float* h = &h_new_[static_cast<size_t>(l * hidden_ + b * block_)];
          lstm_cell(g, &c_[static_cast<size_t>(l * hidden_ + b * block_)], h, block_);
          // The next layer's input; this layer's own [.. | h] is updated after the token.
          if (l + 1 < layers_) std::memcpy(&inputs_[l + 1][static_cast<size_t>(b * block_)], h, sizeof(float) * block_);
        }
#pragma omp barrier
      }
      const auto [r0, r1] = share(vocab_, t, teams);
      out_w_.multiply(&h_new_[static_cast<size_t>((layers_ - 1) * hidden_)], logits_.data(), r0, r1);
      for (int64_t r = r0; r < r1; ++r) logits_[static_cast<size_t>(r)] += out_b_[static_cast<size_t>(r)];
      for (int64_t l = 0; l < layers_; ++l) {
        const int64_t in = l == 0 ? embed_ : hidden_;
        std::memcpy(&inputs_[l][static_cast<size_t>(in + b0 * block_)], &h_new_[static_cast<size_t>(l * hidden_ + b0 * block_)],
                    sizeof(float) * (b1 - b0) * block_);
      }
    }
    ++length_;
    return logits_.data();
  }

  int64_t vocab_size() const override { return vocab_; }
  int64_t length() const override { return length_; }
  size_t weight_bytes() const override {
    size_t n = out_w_.bytes() + sizeof(float) * (embedding_.size() + out_b_.size());
    for (const auto& m : gates_w_) n += m.bytes();
    return n;
  }

 private:
  int64_t vocab_, embed_, hidden_, layers_, block_ = 8;
  int threads_;
  int64_t length_ = 0;
  std::vector<float> embedding_;
  std::vector<GemvMatrix> gates_w_;
  std::vector<std::vector<float>> gates_b_;
  GemvMatrix out_w_;
  std::vector<float> out_b_;
  std::vector<std::vector<float>> inputs_;  // per layer: [x | h before this token]
  std::vector<float> c_, h_new_, gates_, logits_;
};

// ============================================================================================
// Music Transformer
// ============================================================================================

// One head's cache. Keys in tiles of 8 positions, each tile (dh, 8) with the 8 positions
// innermost, so that a query's scores come out 8 at a time from contiguous memory; values as
// rows (position, dh). fp32, or fp16 (int8 mode on a CPU with F16C): half the bytes to stream.
struct HeadCache {
  std::vector<float> keys32, values32;
  std::vector<uint16_t> keys16, values16;
};

class FastTransformer final : public FastDecoder {
 public:
  FastTransformer(const FastTransformerWeights& w, DecodeWeights format, int threads)
      : w_(w), threads_(team_size(threads)), half_cache_(format == DecodeWeights::kInt8 && g_avx2 && w.d_model / std::max<int64_t>(1, w.heads) % 8 == 0) {
    if (w.layers < 1 || w.heads < 1 || w.d_model % w.heads != 0 || w.vocab < 1) {
      throw std::invalid_argument("fast transformer: inconsistent weights");
    }
    d_ = w.d_model, dh_ = d_ / w.heads;
    const int64_t d = d_, f = w.d_ff;
    expect_size(w.token_embedding, w.vocab * d, "the token embedding");
    expect_size(w.voice_embedding, w.voice_period * d, "the voice embedding");
    expect_size(w.beat_embedding, w.beat_steps * d, "the beat embedding");
    if (w.beat_steps > 0 && w.voice_period <= 0) throw std::invalid_argument("fast transformer: a beat embedding without a voice period");
    if (w.conditions) {
      if (w.voice_period <= 0) throw std::invalid_argument("fast transformer: conditions without a voice period");
      expect_size(w.bar_embedding, tokenize::kBarIndices * d, "the bar embedding");
      expect_size(w.end_embedding, tokenize::kEndIndices * d, "the end embedding");
      expect_size(w.key_embedding, tokenize::kKeyIndices * d, "the key embedding");
    }
    expect_size(w.final_norm_w, d, "the final norm"), expect_size(w.final_norm_b, d, "the final norm");
    if (!w.output_w.empty()) expect_size(w.output_w, w.vocab * d, "the output weight"), expect_size(w.output_b, w.vocab, "the output bias");
    if (static_cast<int64_t>(w.blocks.size()) != w.layers) throw std::invalid_argument("fast transformer: weights for another number of layers");
    for (const auto& b : w.blocks) {
      for (const auto* v : {&b.norm1_w, &b.norm1_b, &b.norm2_w, &b.norm2_b, &b.out_b, &b.ff2_b}) expect_size(*v, d, "a block's norm or bias");
      expect_size(b.qkv_w, 3 * d * d, "qkv"), expect_size(b.qkv_b, 3 * d, "qkv's bias"), expect_size(b.out_w, d * d, "out");
      expect_size(b.ff1_w, f * d, "ff1"), expect_size(b.ff1_b, f, "ff1's bias"), expect_size(b.ff2_w, d * f, "ff2");
      if (w.relative) expect_size(b.relative, w.max_relative * dh_, "the relative table");
    }
    m_pad_ = (w.max_relative + 7) / 8 * 8;
    for (const auto& b : w.blocks) {
      Layer l;
      l.qkv = GemvMatrix(b.qkv_w.data(), 3 * d_, d_, format);
      l.out = GemvMatrix(b.out_w.data(), d_, d_, format);
      l.ff1 = GemvMatrix(b.ff1_w.data(), w.d_ff, d_, format);
      l.ff2 = GemvMatrix(b.ff2_w.data(), d_, w.d_ff, format);
      if (w.relative) {  // the table in the keys' tile layout, zero rows padding it to 8s
        l.relative_tiles.assign(static_cast<size_t>(m_pad_ * dh_), 0.0f);
        for (int64_t m = 0; m < w.max_relative; ++m) {
          for (int64_t d = 0; d < dh_; ++d) l.relative_tiles[tile_index(m, d)] = b.relative[static_cast<size_t>(m * dh_ + d)];
        }
      }
      l.heads.resize(static_cast<size_t>(w.heads));
      layers_.push_back(std::move(l));
    }
    if (w.output_w.empty()) {
      head_ = GemvMatrix(w.token_embedding.data(), w.vocab, d_, format);
    } else {
      head_ = GemvMatrix(w.output_w.data(), w.vocab, d_, format);
    }
    // Drop what the matrices now hold.
    for (auto& b : w_.blocks) {
      b.qkv_w = {}, b.out_w = {}, b.ff1_w = {}, b.ff2_w = {}, b.relative = {};
    }
    w_.output_w = {};
    x_.assign(static_cast<size_t>(d_), 0.0f);
    qkv_.assign(static_cast<size_t>(3 * d_), 0.0f);
    attn_.assign(static_cast<size_t>(d_), 0.0f);
    proj_.assign(static_cast<size_t>(d_), 0.0f);
    ff_.assign(static_cast<size_t>(w.d_ff), 0.0f);
    logits_.assign(static_cast<size_t>(w.vocab), 0.0f);
    norm_.assign(static_cast<size_t>(threads_ * d_), 0.0f);
    relative_scores_.assign(static_cast<size_t>(threads_ * m_pad_), 0.0f);
    reset(0, 64);
  }

  void set_conditions(const tokenize::PieceConditions& conditions) override { conditions_ = conditions; }

  void reset(int64_t offset, int64_t capacity) override {
    offset_ = offset;
    length_ = 0;
    reserve(capacity);
  }

  const float* step(int32_t token) override {
    if (token < 0 || token >= w_.vocab) throw std::out_of_range("token " + std::to_string(token) + " is outside the vocabulary");
    if (length_ == capacity_) reserve(2 * capacity_);
    embed(token, offset_ + length_);
    const int64_t len = length_ + 1;  // keys after this token
    const int64_t heads = w_.heads;
    const float scale = 1.0f / std::sqrt(static_cast<float>(dh_));
#pragma omp parallel num_threads(threads_)
    {
      const int t = omp_get_thread_num(), teams = omp_get_num_threads();
      float* h = &norm_[static_cast<size_t>(t * d_)];
      float* scores = &scores_[static_cast<size_t>(t * capacity_)];
      float* relative = &relative_scores_[static_cast<size_t>(t * m_pad_)];
      const auto [d0, d1] = share(d_, t, teams);
      for (size_t li = 0; li < layers_.size(); ++li) {
        Layer& l = layers_[li];
        const auto& b = w_.blocks[li];
        // Every thread normalizes x itself, into its own buffer: D values, cheaper than the
        // barrier a shared copy would need.
        layer_norm(x_.data(), b.norm1_w.data(), b.norm1_b.data(), h, d_);
        const auto [q0, q1] = share(3 * d_, t, teams);
        l.qkv.multiply(h, qkv_.data(), q0, q1);
        for (int64_t r = q0; r < q1; ++r) qkv_[static_cast<size_t>(r)] += b.qkv_b[static_cast<size_t>(r)];
#pragma omp barrier
        const auto [h0, h1] = share(heads, t, teams, 1);
        for (int64_t hd = h0; hd < h1; ++hd) attend_head(l, hd, len, scale, scores, relative);
#pragma omp barrier
        l.out.multiply(attn_.data(), proj_.data(), d0, d1);
        for (int64_t r = d0; r < d1; ++r) x_[static_cast<size_t>(r)] += proj_[static_cast<size_t>(r)] + b.out_b[static_cast<size_t>(r)];
#pragma omp barrier
        layer_norm(x_.data(), b.norm2_w.data(), b.norm2_b.data(), h, d_);
        const auto [f0, f1] = share(w_.d_ff, t, teams, 8);
        l.ff1.multiply(h, ff_.data(), f0, f1);
        bias_gelu(ff_.data(), b.ff1_b.data(), f0, f1);
#pragma omp barrier
        l.ff2.multiply(ff_.data(), proj_.data(), d0, d1);
        for (int64_t r = d0; r < d1; ++r) x_[static_cast<size_t>(r)] += proj_[static_cast<size_t>(r)] + b.ff2_b[static_cast<size_t>(r)];
#pragma omp barrier
      }
      layer_norm(x_.data(), w_.final_norm_w.data(), w_.final_norm_b.data(), h, d_);
      const auto [v0, v1] = share(w_.vocab, t, teams);
      head_.multiply(h, logits_.data(), v0, v1);
      if (!w_.output_b.empty()) {
        for (int64_t r = v0; r < v1; ++r) logits_[static_cast<size_t>(r)] += w_.output_b[static_cast<size_t>(r)];
      }
    }
    ++length_;
    return logits_.data();
  }

  int64_t vocab_size() const override { return w_.vocab; }
  int64_t length() const override { return length_; }
  size_t weight_bytes() const override {
    size_t n = head_.bytes() + sizeof(float) * (w_.token_embedding.size() + w_.voice_embedding.size() + w_.beat_embedding.size() +
                                                w_.bar_embedding.size() + w_.end_embedding.size() + w_.key_embedding.size());
    for (const auto& l : layers_) n += l.qkv.bytes() + l.out.bytes() + l.ff1.bytes() + l.ff2.bytes() + sizeof(float) * l.relative_tiles.size();
    return n;
  }

 private:
  struct Layer {
    GemvMatrix qkv, out, ff1, ff2;
    std::vector<float> relative_tiles;  // (M / 8, dh, 8), like the keys
    std::vector<HeadCache> heads;
  };

  size_t tile_index(int64_t position, int64_t d) const {
    return static_cast<size_t>((position / 8) * dh_ * 8 + d * 8 + position % 8);
  }

  void embed(int32_t token, int64_t position) {
    const float s = std::sqrt(static_cast<float>(d_));
    const float* e = &w_.token_embedding[static_cast<size_t>(token) * d_];
    for (int64_t i = 0; i < d_; ++i) x_[static_cast<size_t>(i)] = e[i] * s;
    if (w_.voice_period > 0) {
      const int64_t voice = ((position - 1) % w_.voice_period + w_.voice_period) % w_.voice_period;
      const float* v = &w_.voice_embedding[static_cast<size_t>(voice * d_)];
      for (int64_t i = 0; i < d_; ++i) x_[static_cast<size_t>(i)] += v[i];
    }
    // The 16th step, floor((position - 1) / P), as the LibTorch model (the BOS is step -1).
    const int64_t shifted = position - 1;
    const int64_t step = w_.voice_period <= 0 ? 0
                         : shifted >= 0       ? shifted / w_.voice_period
                                              : -((-shifted + w_.voice_period - 1) / w_.voice_period);
    if (w_.beat_steps > 0) {
      const int64_t beat = (step % w_.beat_steps + w_.beat_steps) % w_.beat_steps;
      const float* b = &w_.beat_embedding[static_cast<size_t>(beat * d_)];
      for (int64_t i = 0; i < d_; ++i) x_[static_cast<size_t>(i)] += b[i];
    }
    if (w_.conditions) {
      const float* bar = &w_.bar_embedding[static_cast<size_t>(tokenize::bar_index(conditions_, step) * d_)];
      const float* end = &w_.end_embedding[static_cast<size_t>(tokenize::end_index(conditions_, step) * d_)];
      const float* key = &w_.key_embedding[static_cast<size_t>(tokenize::key_index(conditions_) * d_)];
      for (int64_t i = 0; i < d_; ++i) x_[static_cast<size_t>(i)] += bar[i] + end[i] + key[i];
    }
    if (w_.absolute_positions) {
      const float p = static_cast<float>(position);
      for (int64_t i = 0; i + 1 < d_; i += 2) {
        const float freq = std::exp(static_cast<float>(i) * static_cast<float>(-std::log(10000.0) / d_));
        x_[static_cast<size_t>(i)] += std::sin(p * freq);
        x_[static_cast<size_t>(i + 1)] += std::cos(p * freq);
      }
    }
  }

  // Head `hd` of the new position: its key and value into the cache, then softmax(q . K + q .
  // E) . V into attn_, with q scaled by 1/sqrt(dh) first (the same logits, one multiply).
  void attend_head(Layer& l, int64_t hd, int64_t len, float scale, float* scores, float* relative) {
    const int64_t pos = len - 1;
    const float* q_raw = &qkv_[static_cast<size_t>(hd * dh_)];
    const float* k = &qkv_[static_cast<size_t>(d_ + hd * dh_)];
    const float* v = &qkv_[static_cast<size_t>(2 * d_ + hd * dh_)];
    float q[512];
    for (int64_t d = 0; d < dh_; ++d) q[d] = q_raw[d] * scale;
    HeadCache& c = l.heads[static_cast<size_t>(hd)];
    const int64_t tiles = (len + 7) / 8;
    if (half_cache_) {
      for (int64_t d = 0; d < dh_; ++d) c.keys16[tile_index(pos, d)] = to_half(k[d]);
      for (int64_t d = 0; d < dh_; ++d) c.values16[static_cast<size_t>(pos * dh_ + d)] = to_half(v[d]);
      tile_dots_f16(q, c.keys16.data(), tiles, dh_, scores);
    } else {
      for (int64_t d = 0; d < dh_; ++d) c.keys32[tile_index(pos, d)] = k[d];
      std::memcpy(&c.values32[static_cast<size_t>(pos * dh_)], v, sizeof(float) * dh_);
      tile_dots_f32(q, c.keys32.data(), tiles, dh_, scores);
    }
    if (w_.relative) {
      // Key j is at distance j - pos: table row M - 1 - (pos - j), the farthest row (0) for
      // every key beyond the table.
      const int64_t m = w_.max_relative;
      const int64_t j0 = std::max<int64_t>(0, pos - (m - 1));  // first key inside the table
      const int64_t r0 = j0 - pos + m - 1;
      const int64_t first_tile = r0 / 8;
      tile_dots_f32(q, &l.relative_tiles[static_cast<size_t>(first_tile * dh_ * 8)], m_pad_ / 8 - first_tile, dh_,
                    relative + first_tile * 8);
      for (int64_t j = j0; j < len; ++j) scores[j] += relative[r0 + (j - j0)];
      for (int64_t j = 0; j < j0; ++j) scores[j] += relative[0];
    }
    softmax(scores, len);
    float* y = &attn_[static_cast<size_t>(hd * dh_)];
    if (half_cache_) {
      weighted_rows_f16(scores, c.values16.data(), len, dh_, y);
    } else {
      weighted_rows(scores, c.values32.data(), len, dh_, y);
    }
  }

  // Grows the caches to at least `capacity` positions (a multiple of 8), keeping what they hold:
  // the layouts do not depend on the capacity.
  void reserve(int64_t capacity) {
    capacity = (std::max<int64_t>(64, capacity) + 7) / 8 * 8;
    if (capacity <= capacity_) return;
    const size_t n = static_cast<size_t>(capacity * dh_);
    for (Layer& l : layers_) {
      for (HeadCache& c : l.heads) {
        if (half_cache_) {
          c.keys16.resize(n, 0), c.values16.resize(n, 0);
        } else {
          c.keys32.resize(n, 0.0f), c.values32.resize(n, 0.0f);
        }
      }
    }
    capacity_ = capacity;
    scores_.assign(static_cast<size_t>(threads_ * capacity), 0.0f);
  }

  FastTransformerWeights w_;  // embeddings, norms, biases (the matrices moved into layers_)
  int threads_;
  bool half_cache_;
  int64_t d_ = 0, dh_ = 0, m_pad_ = 0;
  std::vector<Layer> layers_;
  GemvMatrix head_;
  int64_t offset_ = 0, length_ = 0, capacity_ = 0;
  tokenize::PieceConditions conditions_;
  std::vector<float> x_, qkv_, attn_, proj_, ff_, logits_, scores_, norm_, relative_scores_;
};

}  // namespace

// ============================================================================================
// GemvMatrix and the factories
// ============================================================================================

GemvMatrix::GemvMatrix(const float* data, int64_t rows, int64_t cols, DecodeWeights format)
    : rows_(rows), cols_(cols), format_(format) {
  const size_t n = static_cast<size_t>(rows * cols);
  if (format == DecodeWeights::kFp32) {
    f32_.assign(data, data + n);
    return;
  }
  i8_.resize(n);
  scale_.resize(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = data + r * cols;
    float top = 0;
    for (int64_t j = 0; j < cols; ++j) top = std::max(top, std::fabs(row[j]));
    const float s = top > 0 ? top / 127.0f : 1.0f;
    scale_[static_cast<size_t>(r)] = s;
    for (int64_t j = 0; j < cols; ++j) {
      i8_[static_cast<size_t>(r * cols + j)] = static_cast<int8_t>(std::lrint(std::clamp(row[j] / s, -127.0f, 127.0f)));
    }
  }
}

size_t GemvMatrix::bytes() const { return sizeof(float) * (f32_.size() + scale_.size()) + i8_.size(); }

void GemvMatrix::multiply(const float* x, float* y, int64_t begin, int64_t end) const {
  if (format_ == DecodeWeights::kFp32) {
    gemv_f32(f32_.data(), cols_, x, y, begin, end);
  } else {
    gemv_i8(i8_.data(), scale_.data(), cols_, x, y, begin, end);
  }
}

std::unique_ptr<FastDecoder> make_fast_lstm(const FastLstmWeights& weights, DecodeWeights format, int threads) {
  return std::make_unique<FastLstm>(weights, format, threads);
}

std::unique_ptr<FastDecoder> make_fast_transformer(const FastTransformerWeights& weights, DecodeWeights format,
                                                   int threads) {
  if (weights.d_model / std::max<int64_t>(1, weights.heads) > 512) throw std::invalid_argument("fast transformer: head width above 512");
  return std::make_unique<FastTransformer>(weights, format, threads);
}

bool fast_decode_uses_avx2() { return g_avx2; }

void fast_decode_use_avx2(bool on) { g_avx2 = on && kCpuHasAvx2; }

SequenceScore score_sequence(FastDecoder& decoder, const int32_t* tokens, size_t n, int64_t offset) {
  decoder.reset(offset, static_cast<int64_t>(n));
  SequenceScore score;
  const int64_t v = decoder.vocab_size();
  for (size_t i = 0; i + 1 < n; ++i) {
    const float* logits = decoder.step(tokens[i]);
    const int32_t target = tokens[i + 1];
    if (target < 0 || target >= v) throw std::out_of_range("token " + std::to_string(target) + " is outside the vocabulary");
    const float* top = std::max_element(logits, logits + v);
    double sum = 0;
    for (int64_t k = 0; k < v; ++k) sum += std::exp(static_cast<double>(logits[k] - *top));
    score.nll += std::log(sum) + *top - logits[target];
    score.correct += top - logits == target;
    ++score.count;
  }
  return score;
}

}  // namespace bachgen::model
