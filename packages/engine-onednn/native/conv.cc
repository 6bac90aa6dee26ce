// oneDNN convolution primitives, cached per shape: a primitive descriptor costs far more to
// create than a small convolution takes to run. Activations are used in place (nhwc); filters
// are reordered between TensorFlow's HWIO and the blocked layout oneDNN's JIT kernels prefer.
#include "conv.h"

namespace qtdog {
using tag = dnnl::memory::format_tag;

static void* at(uint8_t* heap, int64_t offset) { return heap + offset; }

void convForward(Context& ctx, uint8_t* heap, const ConvGeometry& g, int64_t x, int64_t w, int64_t bias, int64_t y, bool relu) {
  Key key = g.key();
  key.push_back(bias >= 0);
  key.push_back(relu);
  auto& slot = ctx.convForward[key];
  if (!slot) {
    dnnl::primitive_attr attr;
    if (relu) {
      dnnl::post_ops ops;
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
      attr.set_post_ops(ops);
    }
    // forward_training: the same result as inference, and the kernel family the backward
    // primitives (built with a forward_training hint) expect.
    auto d = bias >= 0 ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                                         g.src(), g.weights(tag::any), g.bias(), g.dst(), g.strides(), g.padL(), g.padR())
                       : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                                         g.src(), g.weights(tag::any), g.dst(), g.strides(), g.padL(), g.padR());
    slot = std::make_unique<ConvForwardEntry>(dnnl::convolution_forward::primitive_desc(d, attr, ctx.eng), g, ctx.eng);
  }
  ConvForwardEntry& e = *slot;
  e.src.set_data_handle(at(heap, x));
  e.dst.set_data_handle(at(heap, y));
  e.weights.user.set_data_handle(at(heap, w));
  e.weights.fill(ctx.strm);
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, e.src}, {DNNL_ARG_WEIGHTS, e.weights.forPrimitive()}, {DNNL_ARG_DST, e.dst}};
  if (bias >= 0) {
    e.bias.set_data_handle(at(heap, bias));
    args.insert({DNNL_ARG_BIAS, e.bias});
  }
  e.prim.execute(ctx.strm, args);
  ctx.strm.wait();
}

void convBackwardData(Context& ctx, uint8_t* heap, const ConvGeometry& g, int64_t dy, int64_t w, int64_t dx) {
  auto& slot = ctx.convBackwardData[g.key()];
  if (!slot) {
    dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, g.src(), g.weights(tag::any), g.dst(), g.strides(),
                                            g.padL(), g.padR());
    slot = std::make_unique<ConvBackwardDataEntry>(dnnl::convolution_backward_data::primitive_desc(d, ctx.eng, g.forwardHint(ctx.eng)),
                                                   g, ctx.eng);
  }
  ConvBackwardDataEntry& e = *slot;
  e.diffDst.set_data_handle(at(heap, dy));
  e.diffSrc.set_data_handle(at(heap, dx));
  e.weights.user.set_data_handle(at(heap, w));
  e.weights.fill(ctx.strm);
  e.prim.execute(ctx.strm, {{DNNL_ARG_DIFF_DST, e.diffDst}, {DNNL_ARG_WEIGHTS, e.weights.forPrimitive()}, {DNNL_ARG_DIFF_SRC, e.diffSrc}});
  ctx.strm.wait();
}

void convBackwardWeights(Context& ctx, uint8_t* heap, const ConvGeometry& g, int64_t x, int64_t dy, int64_t dw, int64_t dbias) {
  Key key = g.key();
  key.push_back(dbias >= 0);
  auto& slot = ctx.convBackwardWeights[key];
  if (!slot) {
    auto d = dbias >= 0 ? dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, g.src(), g.weights(tag::any),
                                                                   g.bias(), g.dst(), g.strides(), g.padL(), g.padR())
                        : dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, g.src(), g.weights(tag::any),
                                                                   g.dst(), g.strides(), g.padL(), g.padR());
    slot = std::make_unique<ConvBackwardWeightsEntry>(
        dnnl::convolution_backward_weights::primitive_desc(d, ctx.eng, g.forwardHint(ctx.eng)), g, ctx.eng, dbias >= 0);
  }
  ConvBackwardWeightsEntry& e = *slot;
  e.src.set_data_handle(at(heap, x));
  e.diffDst.set_data_handle(at(heap, dy));
  e.diffWeights.user.set_data_handle(at(heap, dw));
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, e.src}, {DNNL_ARG_DIFF_DST, e.diffDst}, {DNNL_ARG_DIFF_WEIGHTS, e.diffWeights.forPrimitive()}};
  if (e.withBias) {
    e.diffBias.set_data_handle(at(heap, dbias));
    args.insert({DNNL_ARG_DIFF_BIAS, e.diffBias});
  }
  e.prim.execute(ctx.strm, args);
  e.diffWeights.empty(ctx.strm);
  ctx.strm.wait();
}

}  // namespace qtdog
