// One oneDNN CPU engine and stream per JavaScript thread (main thread or worker), with the
// primitive caches of that thread. N-API gives each thread (environment) its own addon instance,
// so nothing here is shared between threads and nothing needs a lock.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>
#include <map>
#include <memory>
#include <vector>
#include "conv-entries.h"
#include "matmul-entry.h"

namespace qtdog {

using Key = std::vector<int64_t>;


// Primitives are cached per shape and per thread count: oneDNN fixes a primitive's threads when it
// is created, so a cache keyed by shape alone would keep running with the old count.
struct Context {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  int threads = 1;
  std::map<Key, std::unique_ptr<ConvForwardEntry>> convForward;
  std::map<Key, std::unique_ptr<ConvBackwardDataEntry>> convBackwardData;
  std::map<Key, std::unique_ptr<ConvBackwardWeightsEntry>> convBackwardWeights;
  std::map<Key, std::unique_ptr<MatMulEntry>> matmul;
};

}  // namespace qtdog
