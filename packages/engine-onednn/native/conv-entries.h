// Cached convolution primitives with their memory objects, one per shape (see conv.cc).
#pragma once
#include <oneapi/dnnl/dnnl.hpp>
#include "conv-geometry.h"
#include "reorder-slot.h"

namespace qtdog {

struct ConvForwardEntry {
  dnnl::convolution_forward prim;
  dnnl::memory src, dst, bias;
  ReorderSlot weights;
  ConvForwardEntry(const dnnl::convolution_forward::primitive_desc& pd, const ConvGeometry& g, const dnnl::engine& eng)
      : prim(pd),
        src(pd.src_desc(), eng, DNNL_MEMORY_NONE),
        dst(pd.dst_desc(), eng, DNNL_MEMORY_NONE),
        bias(g.bias(), eng, DNNL_MEMORY_NONE),
        weights(g.weights(), pd.weights_desc(), eng, false) {}
};

struct ConvBackwardDataEntry {
  dnnl::convolution_backward_data prim;
  dnnl::memory diffDst, diffSrc;
  ReorderSlot weights;
  ConvBackwardDataEntry(const dnnl::convolution_backward_data::primitive_desc& pd, const ConvGeometry& g, const dnnl::engine& eng)
      : prim(pd),
        diffDst(pd.diff_dst_desc(), eng, DNNL_MEMORY_NONE),
        diffSrc(pd.diff_src_desc(), eng, DNNL_MEMORY_NONE),
        weights(g.weights(), pd.weights_desc(), eng, false) {}
};

struct ConvBackwardWeightsEntry {
  dnnl::convolution_backward_weights prim;
  dnnl::memory src, diffDst, diffBias;
  ReorderSlot diffWeights;
  bool withBias;
  ConvBackwardWeightsEntry(const dnnl::convolution_backward_weights::primitive_desc& pd, const ConvGeometry& g,
                           const dnnl::engine& eng, bool withBias)
      : prim(pd),
        src(pd.src_desc(), eng, DNNL_MEMORY_NONE),
        diffDst(pd.diff_dst_desc(), eng, DNNL_MEMORY_NONE),
        diffBias(g.bias(), eng, DNNL_MEMORY_NONE),
        diffWeights(g.weights(), pd.diff_weights_desc(), eng, true),
        withBias(withBias) {}
};

}  // namespace qtdog
