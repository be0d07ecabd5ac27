{
  "targets": [
    {
      "target_name": "tsml_native",
      "sources": ["blas.c", "attention.c", "dropout.c", "layers.c", "adamw.c", "elementwise.c", "pool.c", "../src/backend/kernels/band.c", "../src/backend/kernels/activations.c", "../src/backend/kernels/optimizer.c"],
      "cflags": ["-O3", "-fvisibility=hidden", "-ffp-contract=off", "-fno-math-errno", "-pthread", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter", "-Wno-psabi"],
      "ldflags": ["-pthread"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-ffp-contract=off", "-fno-math-errno", "-Wall", "-Wno-unused-parameter"] },
      "conditions": [["OS=='linux'", { "libraries": ["-ldl", "-lm"] }]]
    }
  ]
}
