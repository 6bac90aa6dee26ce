{
  "targets": [
    {
      "target_name": "qtdog_onednn",
      "sources": ["native/addon.cc", "native/conv.cc", "native/matmul.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++17"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-Xpreprocessor", "-fopenmp"]
      }
    }
  ]
}
