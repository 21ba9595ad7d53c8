"""Model references: what `smollm2`, a model folder, a `.gguf` file or a hub id resolve to, and the
fingerprint every cache key is built on."""
