// Cached convolution primitives with their memory objects, one per shape (see conv.cc). Every
// operand goes through a ReorderSlot: where the primitive takes the caller's layout (NHWC, HWIO)
// it works in place; where it was built for a blocked layout, the slot converts.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>
#include "conv-geometry.h"
#include "reorder-slot.h"

namespace qtdog {

struct ConvForwardEntry {
  dnnl::convolution_forward prim;
  ReorderSlot src, weights, dst;
  dnnl::memory bias;
  ConvForwardEntry(const dnnl::convolution_forward::primitive_desc& pd, const ConvGeometry& g, const dnnl::engine& eng)
      : prim(pd),
        src(g.src(), pd.src_desc(), eng, false),
        weights(g.weights(), pd.weights_desc(), eng, false),
        dst(g.dst(), pd.dst_desc(), eng, true),
        bias(g.bias(), eng, DNNL_MEMORY_NONE) {}
};

struct ConvBackwardDataEntry {
  dnnl::convolution_backward_data prim;
  ReorderSlot diffDst, weights, diffSrc;
  ConvBackwardDataEntry(const dnnl::convolution_backward_data::primitive_desc& pd, const ConvGeometry& g, const dnnl::engine& eng)
      : prim(pd),
        diffDst(g.dst(), pd.diff_dst_desc(), eng, false),
        weights(g.weights(), pd.weights_desc(), eng, false),
        diffSrc(g.src(), pd.diff_src_desc(), eng, true) {}
};

struct ConvBackwardWeightsEntry {
  dnnl::convolution_backward_weights prim;
  ReorderSlot src, diffDst, diffWeights;
  dnnl::memory diffBias;
  bool withBias;
  ConvBackwardWeightsEntry(const dnnl::convolution_backward_weights::primitive_desc& pd, const ConvGeometry& g,
                           const dnnl::engine& eng, bool withBias)
      : prim(pd),
        src(g.src(), pd.src_desc(), eng, false),
        diffDst(g.dst(), pd.diff_dst_desc(), eng, false),
        diffWeights(g.weights(), pd.diff_weights_desc(), eng, true),
        diffBias(g.bias(), eng, DNNL_MEMORY_NONE),
        withBias(withBias) {}
};

}  // namespace qtdog
