// @qtdog/engine-onednn's N-API entry: oneDNN convolutions and matrix products over tensors that
// stay where TensorFlow.js's wasm backend keeps them (its heap), addressed by byte offsets.
// Each JavaScript thread gets its own instance (engine, stream, caches): see context.h.
#include <napi.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include "context.h"
#include "conv.h"
#include "matmul.h"

namespace qtdog {

static uint8_t* heapOf(const Napi::Value& v) {
  if (!v.IsTypedArray()) throw Napi::TypeError::New(v.Env(), "expected the wasm heap as a typed array");
  void* data = nullptr;
  size_t length = 0;
  napi_typedarray_type type;
  napi_value buffer;
  size_t byteOffset = 0;
  napi_status st = napi_get_typedarray_info(v.Env(), v, &type, &length, &data, &buffer, &byteOffset);
  if (st != napi_ok || data == nullptr) throw Napi::TypeError::New(v.Env(), "could not address the wasm heap");
  return static_cast<uint8_t*>(data);  // data already points at the view's first byte
}

static const int32_t* intsOf(const Napi::Value& v, size_t count) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      v.As<Napi::Int32Array>().ElementLength() < count) {
    throw Napi::TypeError::New(v.Env(), "expected an Int32Array of " + std::to_string(count) + " geometry values");
  }
  return v.As<Napi::Int32Array>().Data();
}

static int64_t offsetOf(const Napi::Value& v) { return static_cast<int64_t>(v.As<Napi::Number>().DoubleValue()); }

// oneDNN's errors as JavaScript errors; 'unimplemented' is marked so the caller can fall back.
template <typename F>
static Napi::Value guarded(const Napi::Env& env, F&& body) {
  try {
    body();
  } catch (const dnnl::error& err) {
    std::string prefix = err.status == dnnl_unimplemented ? "oneDNN unimplemented: " : "oneDNN error: ";
    throw Napi::Error::New(env, prefix + err.what());
  }
  return env.Undefined();
}

class OneDnnAddon : public Napi::Addon<OneDnnAddon> {
 public:
  OneDnnAddon(Napi::Env env, Napi::Object exports) {
    DefineAddon(exports, {
                             InstanceMethod("version", &OneDnnAddon::Version),
                             InstanceMethod("setThreads", &OneDnnAddon::SetThreads),
                             InstanceMethod("threads", &OneDnnAddon::Threads),
                             InstanceMethod("conv2d", &OneDnnAddon::Conv2D),
                             InstanceMethod("conv2dBackwardData", &OneDnnAddon::Conv2DBackwardData),
                             InstanceMethod("conv2dBackwardWeights", &OneDnnAddon::Conv2DBackwardWeights),
                             InstanceMethod("matMul", &OneDnnAddon::MatMul),
                             InstanceMethod("describeConv", &OneDnnAddon::DescribeConv),
                         });
    ctx_.threads = omp_get_max_threads();
  }

 private:
  Context ctx_;

  Napi::Value Version(const Napi::CallbackInfo& info) {
    const dnnl_version_t* v = dnnl_version();
    return Napi::String::New(info.Env(), std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  }

  // OpenMP's thread count is per calling thread: each JavaScript thread sets its own.
  Napi::Value SetThreads(const Napi::CallbackInfo& info) {
    int n = info[0].As<Napi::Number>().Int32Value();
    if (n < 1) throw Napi::RangeError::New(info.Env(), "threads must be at least 1");
    omp_set_num_threads(n);
    ctx_.threads = n;
    return info.Env().Undefined();
  }
  Napi::Value Threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ctx_.threads); }

  // conv2d(heap, geometry, x, w, bias (-1: none), y, relu)
  Napi::Value Conv2D(const Napi::CallbackInfo& info) {
    uint8_t* heap = heapOf(info[0]);
    auto g = ConvGeometry::from(intsOf(info[1], ConvGeometry::kFields));
    return guarded(info.Env(), [&] {
      convForward(ctx_, heap, g, offsetOf(info[2]), offsetOf(info[3]), offsetOf(info[4]), offsetOf(info[5]), info[6].ToBoolean());
    });
  }
  // conv2dBackwardData(heap, geometry, dy, w, dx)
  Napi::Value Conv2DBackwardData(const Napi::CallbackInfo& info) {
    uint8_t* heap = heapOf(info[0]);
    auto g = ConvGeometry::from(intsOf(info[1], ConvGeometry::kFields));
    return guarded(info.Env(), [&] { convBackwardData(ctx_, heap, g, offsetOf(info[2]), offsetOf(info[3]), offsetOf(info[4])); });
  }
  // conv2dBackwardWeights(heap, geometry, x, dy, dw, dbias (-1: none))
  Napi::Value Conv2DBackwardWeights(const Napi::CallbackInfo& info) {
    uint8_t* heap = heapOf(info[0]);
    auto g = ConvGeometry::from(intsOf(info[1], ConvGeometry::kFields));
    return guarded(info.Env(), [&] {
      convBackwardWeights(ctx_, heap, g, offsetOf(info[2]), offsetOf(info[3]), offsetOf(info[4]), offsetOf(info[5]));
    });
  }
  // matMul(heap, geometry, a, b, bias (-1: none), c, relu)
  Napi::Value MatMul(const Napi::CallbackInfo& info) {
    uint8_t* heap = heapOf(info[0]);
    auto g = MatMulGeometry::from(intsOf(info[1], MatMulGeometry::kFields));
    return guarded(info.Env(), [&] {
      matMul(ctx_, heap, g, offsetOf(info[2]), offsetOf(info[3]), offsetOf(info[4]), offsetOf(info[5]), info[6].ToBoolean());
    });
  }

  // The oneDNN implementations chosen for a convolution's three primitives (e.g. 'jit:avx2').
  Napi::Value DescribeConv(const Napi::CallbackInfo& info) {
    auto g = ConvGeometry::from(intsOf(info[0], ConvGeometry::kFields));
    Napi::Object out = Napi::Object::New(info.Env());
    guarded(info.Env(), [&] {
      ConvImplementations d = describeConv(ctx_, g);
      auto name = [](const std::string& impl, bool blocked) { return impl + (blocked ? " (blocked)" : " (nhwc)"); };
      out.Set("forward", name(d.forward, d.forwardBlocked));
      out.Set("backwardData", name(d.backwardData, d.backwardDataBlocked));
      out.Set("backwardWeights", name(d.backwardWeights, d.backwardWeightsBlocked));
    });
    return out;
  }
};

}  // namespace qtdog

using qtdog::OneDnnAddon;
NODE_API_ADDON(OneDnnAddon)
