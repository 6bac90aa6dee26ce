// A cached matmul primitive with its memory objects, one per shape (see matmul.cc).
#pragma once
#include <oneapi/dnnl/dnnl.hpp>

namespace qtdog {

struct MatMulEntry {
  dnnl::matmul prim;
  dnnl::memory a, b, bias, c;
  MatMulEntry(const dnnl::matmul::primitive_desc& pd, const dnnl::memory::desc& biasDesc, const dnnl::engine& eng)
      : prim(pd),
        a(pd.src_desc(), eng, DNNL_MEMORY_NONE),
        b(pd.weights_desc(), eng, DNNL_MEMORY_NONE),
        bias(biasDesc, eng, DNNL_MEMORY_NONE),
        c(pd.dst_desc(), eng, DNNL_MEMORY_NONE) {}
};

}  // namespace qtdog
