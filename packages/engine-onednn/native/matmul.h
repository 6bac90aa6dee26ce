// Batched matrix products in TensorFlow's BatchMatMul semantics (optional transposes, bias and
// ReLU of _FusedMatMul), on tensors in one caller buffer at byte offsets.
#pragma once
#include <cstdint>
#include "context.h"

namespace qtdog {

struct MatMulGeometry {
  int64_t batchA, batchB, m, k, n;  // a: [batchA, m, k] (or [batchA, k, m] transposed), b: [batchB, k, n] (or [batchB, n, k])
  bool transposeA, transposeB;
  static constexpr int kFields = 7;
  static MatMulGeometry from(const int32_t* g) { return {g[0], g[1], g[2], g[3], g[4], g[5] != 0, g[6] != 0}; }
};

// c = a . b [+ bias over the last axis] [then ReLU]. `bias` < 0: none.
void matMul(Context& ctx, uint8_t* heap, const MatMulGeometry& g, int64_t a, int64_t b, int64_t bias, int64_t c, bool relu);

}  // namespace qtdog
