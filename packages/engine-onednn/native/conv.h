// Convolution forward (with bias and ReLU as post-ops), backward data and backward weights, on
// tensors that live in one caller buffer (the wasm heap) at byte offsets.
#pragma once
#include <cstdint>
#include <string>
#include "context.h"
#include "conv-geometry.h"

namespace qtdog {

// The oneDNN implementations a convolution's three primitives get, and whether each works on
// blocked activations (reached through reorders) rather than NHWC in place.
struct ConvImplementations {
  std::string forward, backwardData, backwardWeights;
  bool forwardBlocked, backwardDataBlocked, backwardWeightsBlocked;
};
ConvImplementations describeConv(Context& ctx, const ConvGeometry& g);

// y = conv(x, w) [+ bias] [then ReLU]. `bias` < 0: none.
void convForward(Context& ctx, uint8_t* heap, const ConvGeometry& g, int64_t x, int64_t w, int64_t bias, int64_t y, bool relu);
// dx = the input gradient of y = conv(x, w), given dy.
void convBackwardData(Context& ctx, uint8_t* heap, const ConvGeometry& g, int64_t dy, int64_t w, int64_t dx);
// dw (HWIO) [and dbias, when `dbias` >= 0] = the weight gradients of y = conv(x, w), given dy.
void convBackwardWeights(Context& ctx, uint8_t* heap, const ConvGeometry& g, int64_t x, int64_t dy, int64_t dw, int64_t dbias);

}  // namespace qtdog
