// oneDNN convolution primitives, cached per shape: a primitive descriptor costs far more to
// create than a small convolution takes to run. Activations are used in place (nhwc); filters
// are reordered between TensorFlow's HWIO and the blocked layout oneDNN's JIT kernels prefer.
#include "conv.h"
#include <cstdlib>
#include <cstring>

namespace qtdog {
using tag = dnnl::memory::format_tag;

// Forward, backward data, backward weights: see layoutFor.
static const char* const kDefaultLayouts = "nnn";

static void* at(uint8_t* heap, int64_t offset) { return heap + offset; }

// The activations' layout each primitive is built for: NHWC in place, or `any` (oneDNN's blocked
// choice, reached through reorders). Which is faster depends on the primitive and the CPU
// (docs/benchmarks.md, "Layouts"); QTDOG_ONEDNN_LAYOUT=fwd,bwd_data,bwd_weights overrides it with
// a letter each: n (NHWC) or b (blocked), e.g. "nbb".
static tag layoutFor(int primitive) {
  static const char* choice = [] {
    const char* env = std::getenv("QTDOG_ONEDNN_LAYOUT");
    return env != nullptr && std::strlen(env) == 3 ? env : kDefaultLayouts;
  }();
  return choice[primitive] == 'b' ? tag::any : tag::nhwc;
}

static dnnl::convolution_forward::primitive_desc forwardPd(Context& ctx, const ConvGeometry& g, bool bias, bool relu) {
  dnnl::primitive_attr attr;
  if (relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(ops);
  }
  // forward_training: the same result as inference, and the kernel family the backward
  // primitives (built with a forward_training hint) expect.
  const tag act = layoutFor(0);
  auto d = bias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, g.src(act),
                                                  g.weights(tag::any), g.bias(), g.dst(act), g.strides(), g.padL(), g.padR())
                : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, g.src(act),
                                                  g.weights(tag::any), g.dst(act), g.strides(), g.padL(), g.padR());
  return {d, attr, ctx.eng};
}

static dnnl::convolution_backward_data::primitive_desc backwardDataPd(Context& ctx, const ConvGeometry& g) {
  const tag act = layoutFor(1);
  dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, g.src(act), g.weights(tag::any), g.dst(act), g.strides(),
                                          g.padL(), g.padR());
  return {d, ctx.eng, g.forwardHint(ctx.eng, act)};
}

static dnnl::convolution_backward_weights::primitive_desc backwardWeightsPd(Context& ctx, const ConvGeometry& g, bool bias) {
  const tag act = layoutFor(2);
  auto d = bias ? dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, g.src(act), g.weights(tag::any), g.bias(),
                                                           g.dst(act), g.strides(), g.padL(), g.padR())
                : dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, g.src(act), g.weights(tag::any), g.dst(act),
                                                           g.strides(), g.padL(), g.padR());
  return {d, ctx.eng, g.forwardHint(ctx.eng, act)};
}

ConvImplementations describeConv(Context& ctx, const ConvGeometry& g) {
  return {forwardPd(ctx, g, true, false).impl_info_str(), backwardDataPd(ctx, g).impl_info_str(),
          backwardWeightsPd(ctx, g, false).impl_info_str(), layoutFor(0) == tag::any, layoutFor(1) == tag::any, layoutFor(2) == tag::any};
}

void convForward(Context& ctx, uint8_t* heap, const ConvGeometry& g, int64_t x, int64_t w, int64_t bias, int64_t y, bool relu) {
  Key key = g.key();
  key.push_back(bias >= 0);
  key.push_back(relu);
  key.push_back(ctx.threads);
  auto& slot = ctx.convForward[key];
  if (!slot) slot = std::make_unique<ConvForwardEntry>(forwardPd(ctx, g, bias >= 0, relu), g, ctx.eng);
  ConvForwardEntry& e = *slot;
  e.src.user.set_data_handle(at(heap, x));
  e.weights.user.set_data_handle(at(heap, w));
  e.dst.user.set_data_handle(at(heap, y));
  e.src.fill(ctx.strm);
  e.weights.fill(ctx.strm);
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, e.src.forPrimitive()}, {DNNL_ARG_WEIGHTS, e.weights.forPrimitive()}, {DNNL_ARG_DST, e.dst.forPrimitive()}};
  if (bias >= 0) {
    e.bias.set_data_handle(at(heap, bias));
    args.insert({DNNL_ARG_BIAS, e.bias});
  }
  e.prim.execute(ctx.strm, args);
  e.dst.empty(ctx.strm);
  ctx.strm.wait();
}

void convBackwardData(Context& ctx, uint8_t* heap, const ConvGeometry& g, int64_t dy, int64_t w, int64_t dx) {
  Key key = g.key();
  key.push_back(ctx.threads);
  auto& slot = ctx.convBackwardData[key];
  if (!slot) slot = std::make_unique<ConvBackwardDataEntry>(backwardDataPd(ctx, g), g, ctx.eng);
  ConvBackwardDataEntry& e = *slot;
  e.diffDst.user.set_data_handle(at(heap, dy));
  e.weights.user.set_data_handle(at(heap, w));
  e.diffSrc.user.set_data_handle(at(heap, dx));
  e.diffDst.fill(ctx.strm);
  e.weights.fill(ctx.strm);
  e.prim.execute(ctx.strm, {{DNNL_ARG_DIFF_DST, e.diffDst.forPrimitive()},
                            {DNNL_ARG_WEIGHTS, e.weights.forPrimitive()},
                            {DNNL_ARG_DIFF_SRC, e.diffSrc.forPrimitive()}});
  e.diffSrc.empty(ctx.strm);
  ctx.strm.wait();
}

void convBackwardWeights(Context& ctx, uint8_t* heap, const ConvGeometry& g, int64_t x, int64_t dy, int64_t dw, int64_t dbias) {
  Key key = g.key();
  key.push_back(dbias >= 0);
  key.push_back(ctx.threads);
  auto& slot = ctx.convBackwardWeights[key];
  if (!slot) slot = std::make_unique<ConvBackwardWeightsEntry>(backwardWeightsPd(ctx, g, dbias >= 0), g, ctx.eng, dbias >= 0);
  ConvBackwardWeightsEntry& e = *slot;
  e.src.user.set_data_handle(at(heap, x));
  e.diffDst.user.set_data_handle(at(heap, dy));
  e.diffWeights.user.set_data_handle(at(heap, dw));
  e.src.fill(ctx.strm);
  e.diffDst.fill(ctx.strm);
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, e.src.forPrimitive()},
                                             {DNNL_ARG_DIFF_DST, e.diffDst.forPrimitive()},
                                             {DNNL_ARG_DIFF_WEIGHTS, e.diffWeights.forPrimitive()}};
  if (e.withBias) {
    e.diffBias.set_data_handle(at(heap, dbias));
    args.insert({DNNL_ARG_DIFF_BIAS, e.diffBias});
  }
  e.prim.execute(ctx.strm, args);
  e.diffWeights.empty(ctx.strm);
  ctx.strm.wait();
}

}  // namespace qtdog
