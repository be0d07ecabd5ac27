{
  "targets": [
    {
      "target_name": "tsml_native",
      "sources": ["blas.c", "attention.c", "dropout.c", "pool.c", "../src/backend/kernels/band.c"],
      "cflags": ["-O3", "-fvisibility=hidden", "-ffp-contract=off", "-pthread", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter", "-Wno-psabi"],
      "ldflags": ["-pthread"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-ffp-contract=off", "-Wall", "-Wno-unused-parameter"] },
      "conditions": [["OS=='linux'", { "libraries": ["-ldl", "-lm"] }]]
    }
  ]
}
