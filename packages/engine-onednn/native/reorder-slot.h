// A buffer in the layout a primitive prefers, with the reorder that fills it from (or empties it
// into) the caller's layout. When the two layouts are the same there is no buffer and no reorder:
// the primitive reads or writes the caller's memory in place.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>

namespace qtdog {

struct ReorderSlot {
  dnnl::memory user;                    // the caller's buffer, re-pointed on every call
  std::optional<dnnl::memory> inner;    // the primitive's layout, owned here, when it differs
  std::optional<dnnl::reorder> convert; // user -> inner (an input) or inner -> user (an output)

  ReorderSlot(const dnnl::memory::desc& userDesc, const dnnl::memory::desc& wanted, const dnnl::engine& eng, bool isOutput)
      : user(userDesc, eng, DNNL_MEMORY_NONE) {
    if (wanted != userDesc) {
      inner.emplace(wanted, eng);
      convert.emplace(isOutput ? dnnl::reorder(*inner, user) : dnnl::reorder(user, *inner));
    }
  }
  // The memory the primitive works on.
  const dnnl::memory& forPrimitive() const { return inner ? *inner : user; }
  // For an input: copy the caller's data into the primitive's layout.
  void fill(dnnl::stream& s) {
    if (convert) convert->execute(s, user, *inner);
  }
  // For an output: copy the primitive's result into the caller's layout.
  void empty(dnnl::stream& s) {
    if (convert) convert->execute(s, *inner, user);
  }
};

}  // namespace qtdog
