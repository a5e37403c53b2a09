//! Helpers shared by the example binaries in `src/bin/`.
