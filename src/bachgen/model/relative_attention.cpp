// Relative self-attention: skew, naive reference, and the incremental step.
#include "bachgen/model/relative_attention.h"

#include "bachgen/model/fast_dropout.h"

#include <cmath>
#include <limits>

namespace bachgen::model {

namespace F = torch::nn::functional;
using torch::indexing::Slice;

namespace {

// The skew of Huang et al. as an autograd function with a lean backward. Forward: entry (i, j)
// of the result is qe[i][j - i + T - 1] (read through a strided view: row stride T - 1, offset
// T - 1; entries above the diagonal hold other values and are masked by the caller). Backward:
// the inverse placement through a zero (T + 1) x T buffer viewed as T x (T + 1), without
// as_strided's general (index-tensor) backward for overlapping views.
struct Skew : public torch::autograd::Function<Skew> {
  static torch::Tensor forward(torch::autograd::AutogradContext*, const torch::Tensor& qe) {
    const torch::Tensor c = qe.contiguous();  // (B, H, T, T)
    const int64_t b = c.size(0), h = c.size(1), t = c.size(2);
    return c.as_strided({b, h, t, t}, {h * t * t, t * t, t - 1, 1}, c.storage_offset() + t - 1).clone();
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext*,
                                               torch::autograd::tensor_list grads) {
    const torch::Tensor g = grads[0].tril();  // only j <= i came from qe   (B, H, T, T)
    const int64_t b = g.size(0), h = g.size(1), t = g.size(2);
    // (i, j) <- qe[i][j - i + T - 1]: in the padded layout, row i + 1 of the (T + 1, T) view.
    torch::Tensor buffer = torch::zeros({b, h, t + 1, t}, g.options());
    buffer.index({Slice(), Slice(), Slice(1)}).copy_(g);
    return {buffer.view({b, h, t, t + 1}).index({Slice(), Slice(), Slice(), Slice(1)})};
  }
};

// The bidirectional skew: qe (B, H, T, 2T - 1), column c is distance c - (T - 1); entry (i, j)
// of the result is qe[i][j - i + T - 1], which in qe's memory is i (2T - 2) + j + T - 1: a
// strided view (row stride 2T - 2, offset T - 1) whose T x T entries are all distinct, so the
// backward places the gradient through the same view of a zero buffer.
struct SkewBoth : public torch::autograd::Function<SkewBoth> {
  static torch::Tensor view(const torch::Tensor& qe, int64_t t) {
    const int64_t b = qe.size(0), h = qe.size(1), w = 2 * t - 1;
    return qe.as_strided({b, h, t, t}, {h * t * w, t * w, 2 * t - 2, 1}, qe.storage_offset() + t - 1);
  }
  static torch::Tensor forward(torch::autograd::AutogradContext*, const torch::Tensor& qe) {
    const torch::Tensor c = qe.contiguous();
    return view(c, c.size(2)).clone();
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext*,
                                               torch::autograd::tensor_list grads) {
    const torch::Tensor& g = grads[0];  // (B, H, T, T)
    const int64_t b = g.size(0), h = g.size(1), t = g.size(2);
    torch::Tensor buffer = torch::zeros({b, h, t, 2 * t - 1}, g.options());
    view(buffer, t).copy_(g);
    return {buffer};
  }
};

}  // namespace

torch::Tensor linear_rows(const torch::nn::Linear& layer, const torch::Tensor& x) {
  const int64_t in = x.size(-1);
  if (x.numel() != in || x.scalar_type() != layer->weight.scalar_type()) return torch::linear(x, layer->weight, layer->bias);
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = layer->weight.size(0);
  const torch::Tensor y = layer->bias.defined() ? torch::addmv(layer->bias, layer->weight, x.reshape({in}))
                                                 : torch::mv(layer->weight, x.reshape({in}));
  return y.view(shape);
}

RelativeSelfAttentionImpl::RelativeSelfAttentionImpl(const AttentionOptions& options)
    : options_(options) {
  TORCH_CHECK(options.d_model % options.heads == 0, "d_model ", options.d_model,
              " is not a multiple of heads ", options.heads);
  TORCH_CHECK(options.max_relative >= 1, "max_relative must be at least 1");
  head_dim_ = options.d_model / options.heads;
  qkv_ = register_module("qkv", torch::nn::Linear(options.d_model, 3 * options.d_model));
  out_ = register_module("out", torch::nn::Linear(options.d_model, options.d_model));
  dropout_ = register_module("dropout", torch::nn::Dropout(options.dropout));
  if (options.relative) {
    relative_ = register_parameter(
        "relative", torch::randn({options.causal ? options.max_relative : 2 * options.max_relative - 1, head_dim_}) *
                        (1.0 / std::sqrt(head_dim_)));
  }
}

torch::Tensor RelativeSelfAttentionImpl::split_heads(const torch::Tensor& x) const {
  const int64_t b = x.size(0), t = x.size(1);
  return x.view({b, t, options_.heads, head_dim_}).transpose(1, 2);  // (B, H, T, dh)
}

torch::Tensor RelativeSelfAttentionImpl::relative_table(int64_t length) const {
  const int64_t m = options_.max_relative;
  if (options_.causal) {
    if (length <= m) return relative_.narrow(0, m - length, length);  // (T, dh)
    // Distances beyond the table share its farthest row.
    return torch::cat({relative_.narrow(0, 0, 1).expand({length - m, head_dim_}), relative_});
  }
  // Distances -(T-1) .. T-1 from a table of -(M-1) .. M-1 (row M - 1 is distance 0).
  if (length <= m) return relative_.narrow(0, m - length, 2 * length - 1);  // (2T - 1, dh)
  return torch::cat({relative_.narrow(0, 0, 1).expand({length - m, head_dim_}), relative_,
                     relative_.narrow(0, 2 * m - 2, 1).expand({length - m, head_dim_})});
}

torch::Tensor RelativeSelfAttentionImpl::attend(const torch::Tensor& logits, const torch::Tensor& v) {
  torch::Tensor weights = torch::softmax(logits, /*dim=*/-1);  // (B, H, Tq, Tk)
  if (capture_weights) last_weights = weights.detach();
  torch::Tensor y = torch::matmul(apply_dropout(dropout_, weights), v);  // (B, H, Tq, dh)
  const int64_t b = y.size(0), t = y.size(2);
  return linear_rows(out_, y.transpose(1, 2).reshape({b, t, options_.d_model}));  // (B, Tq, D)
}

torch::Tensor RelativeSelfAttentionImpl::forward(const torch::Tensor& x) {
  const int64_t t = x.size(1);
  const auto qkv = qkv_(x).chunk(3, /*dim=*/-1);
  // The 1/sqrt(d) scale goes into q once, instead of over a (T, T) tensor per head.
  const torch::Tensor q = split_heads(qkv[0]) * (1.0 / std::sqrt(static_cast<double>(head_dim_)));
  const torch::Tensor k = split_heads(qkv[1]), v = split_heads(qkv[2]);
  torch::Tensor logits = torch::matmul(q, k.transpose(-2, -1));  // (B, H, T, T)
  if (options_.relative) {
    // q . Er^T: column c is distance c - (T - 1). The skew (pad a zero column on the left,
    // view as (T + 1, T), drop the first row) puts distance j - i at (i, j) for j <= i; Skew
    // above does it without the padded copy, and with a backward that needs one (T, T)
    // buffer per head. Entries above the diagonal are masked below. Not causal: the table
    // covers distances -(T-1) .. T-1 and SkewBoth places every one of them.
    const torch::Tensor qe = torch::matmul(q, relative_table(t).transpose(0, 1));
    logits.add_(options_.causal ? Skew::apply(qe) : SkewBoth::apply(qe));  // in place
  }
  if (options_.causal) {
    const torch::Tensor causal = torch::ones({t, t}, torch::dtype(torch::kBool).device(x.device())).triu(1);
    logits.masked_fill_(causal, -std::numeric_limits<float>::infinity());
  }
  return attend(logits, v);
}

torch::Tensor RelativeSelfAttentionImpl::forward_naive(const torch::Tensor& x) {
  const int64_t t = x.size(1);
  const auto qkv = qkv_(x).chunk(3, /*dim=*/-1);
  const torch::Tensor q = split_heads(qkv[0]), k = split_heads(qkv[1]), v = split_heads(qkv[2]);
  torch::Tensor logits = torch::matmul(q, k.transpose(-2, -1));
  if (options_.relative) {
    // distance j - i, clipped to the table, as an index into it: (T, T)
    const torch::Tensor pos = torch::arange(t, torch::dtype(torch::kInt64).device(x.device()));
    const int64_t far = options_.max_relative - 1;
    const torch::Tensor distance = (pos.unsqueeze(0) - pos.unsqueeze(1)).clamp(-far, options_.causal ? 0 : far);
    const torch::Tensor e = relative_.index({distance + far});  // (T, T, dh)
    logits = logits + torch::einsum("bhid,ijd->bhij", {q, e});
  }
  logits = logits / std::sqrt(static_cast<double>(head_dim_));
  if (!options_.causal) return attend(logits, v);
  const torch::Tensor causal = torch::ones({t, t}, torch::dtype(torch::kBool).device(x.device())).triu(1);
  return attend(logits.masked_fill(causal, -std::numeric_limits<float>::infinity()), v);
}

torch::Tensor RelativeSelfAttentionImpl::step(const torch::Tensor& x, torch::Tensor& key_cache,
                                              torch::Tensor& value_cache, int64_t length) {
  TORCH_CHECK(options_.causal, "step() decodes one position of causal attention");
  const auto qkv = linear_rows(qkv_, x).chunk(3, /*dim=*/-1);
  const torch::Tensor q = split_heads(qkv[0]), k = split_heads(qkv[1]), v = split_heads(qkv[2]);
  if (!key_cache.defined() || key_cache.size(2) <= length) {  // grow by doubling
    const int64_t capacity = std::max<int64_t>(64, 2 * (length + 1));
    torch::Tensor keys = torch::zeros({x.size(0), options_.heads, capacity, head_dim_}, k.options());
    torch::Tensor values = torch::zeros_like(keys);
    if (key_cache.defined() && length > 0) {
      keys.narrow(2, 0, length).copy_(key_cache.narrow(2, 0, length));
      values.narrow(2, 0, length).copy_(value_cache.narrow(2, 0, length));
    }
    key_cache = keys;
    value_cache = values;
  }
  // narrow + copy_ rather than index_put_ / index: the same writes and views, without the
  // indexing machinery's per-call cost, which dominates at batch 1.
  key_cache.narrow(2, length, 1).copy_(k);
  value_cache.narrow(2, length, 1).copy_(v);
  const torch::Tensor keys = key_cache.narrow(2, 0, length + 1);
  const torch::Tensor values = value_cache.narrow(2, 0, length + 1);
  torch::Tensor logits = torch::matmul(q, keys.transpose(-2, -1));  // (B, H, 1, length + 1)
  if (options_.relative) {
    // The new query's relative logits are one row of q . Er^T: key j is at distance j - length.
    logits = logits + torch::matmul(q, relative_table(length + 1).transpose(0, 1));
  }
  return attend(logits / std::sqrt(static_cast<double>(head_dim_)), values);
}

}  // namespace bachgen::model
