// oneDNN matmul, cached per shape. Transposed operands are described by strides, so they are
// read in place; a batch of 1 on either side is broadcast, as TensorFlow does.
#include "matmul.h"
#include <algorithm>

namespace qtdog {
using dt = dnnl::memory::data_type;

// [batch, rows, cols] stored row-major, or stored as [batch, cols, rows] when transposed.
static dnnl::memory::desc operand(int64_t batch, int64_t rows, int64_t cols, bool transposed) {
  dnnl::memory::dims strides = transposed ? dnnl::memory::dims{rows * cols, 1, rows} : dnnl::memory::dims{rows * cols, cols, 1};
  return {{batch, rows, cols}, dt::f32, strides};
}

void matMul(Context& ctx, uint8_t* heap, const MatMulGeometry& g, int64_t a, int64_t b, int64_t bias, int64_t c, bool relu) {
  Key key{g.batchA, g.batchB, g.m, g.k, g.n, g.transposeA, g.transposeB, bias >= 0, relu, ctx.threads};
  auto& slot = ctx.matmul[key];
  const int64_t batch = std::max(g.batchA, g.batchB);
  dnnl::memory::desc biasDesc({1, 1, g.n}, dt::f32, dnnl::memory::dims{g.n, g.n, 1});
  if (!slot) {
    dnnl::memory::desc cDesc({batch, g.m, g.n}, dt::f32, dnnl::memory::dims{g.m * g.n, g.n, 1});
    auto aDesc = operand(g.batchA, g.m, g.k, g.transposeA);
    auto bDesc = operand(g.batchB, g.k, g.n, g.transposeB);
    auto d = bias >= 0 ? dnnl::matmul::desc(aDesc, bDesc, biasDesc, cDesc) : dnnl::matmul::desc(aDesc, bDesc, cDesc);
    dnnl::primitive_attr attr;
    if (relu) {
      dnnl::post_ops ops;
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
      attr.set_post_ops(ops);
    }
    slot = std::make_unique<MatMulEntry>(dnnl::matmul::primitive_desc(d, attr, ctx.eng), biasDesc, ctx.eng);
  }
  MatMulEntry& e = *slot;
  e.a.set_data_handle(heap + a);
  e.b.set_data_handle(heap + b);
  e.c.set_data_handle(heap + c);
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, e.a}, {DNNL_ARG_WEIGHTS, e.b}, {DNNL_ARG_DST, e.c}};
  if (bias >= 0) {
    e.bias.set_data_handle(heap + bias);
    args.insert({DNNL_ARG_BIAS, e.bias});
  }
  e.prim.execute(ctx.strm, args);
  ctx.strm.wait();
}

}  // namespace qtdog
