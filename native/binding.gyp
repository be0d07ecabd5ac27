{
  "targets": [
    {
      "target_name": "tsml_native",
      "sources": ["blas.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O2", "-Wall", "-Wno-unused-parameter"] },
      "conditions": [["OS=='linux'", { "libraries": ["-ldl", "-lm"] }]]
    }
  ]
}
