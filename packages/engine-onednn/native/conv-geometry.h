// A 2-D convolution in TensorFlow's layouts: activations NHWC, filters HWIO [kh, kw, ci, co].
// oneDNN takes the same buffers through format tags (nhwc, hwio), so nothing is transposed.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>
#include <cstdint>
#include <vector>

namespace qtdog {

struct ConvGeometry {
  int64_t n, h, w, ci;      // input
  int64_t co, kh, kw;       // filter
  int64_t oh, ow;           // output
  int64_t sh, sw;           // strides
  int64_t pt, pb, pl, pr;   // padding (top, bottom, left, right)

  static constexpr int kFields = 15;
  static ConvGeometry from(const int32_t* g) {
    return {g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13], g[14]};
  }
  std::vector<int64_t> key() const { return {n, h, w, ci, co, kh, kw, oh, ow, sh, sw, pt, pb, pl, pr}; }

  dnnl::memory::desc src(dnnl::memory::format_tag tag = dnnl::memory::format_tag::nhwc) const {
    return {{n, ci, h, w}, dnnl::memory::data_type::f32, tag};
  }
  dnnl::memory::desc dst(dnnl::memory::format_tag tag = dnnl::memory::format_tag::nhwc) const {
    return {{n, co, oh, ow}, dnnl::memory::data_type::f32, tag};
  }
  dnnl::memory::desc weights(dnnl::memory::format_tag tag = dnnl::memory::format_tag::hwio) const {
    return {{co, ci, kh, kw}, dnnl::memory::data_type::f32, tag};
  }
  dnnl::memory::desc bias() const { return {{co}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::x}; }
  dnnl::memory::dims strides() const { return {sh, sw}; }
  dnnl::memory::dims padL() const { return {pt, pl}; }
  dnnl::memory::dims padR() const { return {pb, pr}; }

  // The forward description the backward primitives take as their hint.
  dnnl::convolution_forward::primitive_desc forwardHint(const dnnl::engine& eng,
                                                        dnnl::memory::format_tag act = dnnl::memory::format_tag::nhwc) const {
    using tag = dnnl::memory::format_tag;
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src(act),
                                      weights(tag::any), bias(), dst(act), strides(), padL(), padR());
    return {d, eng};
  }
};

}  // namespace qtdog
