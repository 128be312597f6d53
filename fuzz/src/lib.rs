//! # pix2scene-fuzz
//!
//! Fuzz targets for every parser of outside input outside the training crate: OBJ meshes,
//! `.npy` depth files, the renderer's parameter JSON (`shade --params`), dataset manifests, the
//! generator configuration inside a manifest, safetensors shards, and whole dataset directories
//! read end to end.
//!
//! Each [`Target`] runs one input through the parser and checks the properties every parser
//! must keep, whatever its input: no panic, no hang, a peak of live heap memory within the
//! target's stated bound ([`AllocBound`]), and every rejection a non-empty one-line message. Two
//! engines drive the targets:
//!
//! - [`fuzz`], a seeded mutation engine on stable Rust with no instrumentation: mutations of
//!   valid files the project writes itself (bit flips, truncations, splices, repeated blocks,
//!   huge numbers, NaN and infinities, deep nesting, dictionary tokens), keeping in its corpus
//!   the inputs that give a new kind of outcome. `cargo test -p pix2scene-fuzz` runs 1,000
//!   inputs per target; `scripts/fuzz.sh` runs 100,000 or more and prints the counts.
//! - libFuzzer, coverage-guided, through `fuzz/libfuzzer` (a crate outside the workspace, built
//!   on stable Rust with LLVM's sanitizer-coverage passes; `scripts/fuzz.sh --coverage`).
//!
//! ```
//! let report = pix2scene_fuzz::fuzz(&pix2scene_fuzz::targets::NPY, 50, 1);
//! assert!(report.failures.is_empty());
//! assert_eq!(report.inputs, 50);
//! ```
//!
//! # Feature flags
//! None.

mod allocation;
mod harness;
mod mutator;
mod target;
pub mod targets;

pub use allocation::{CountingAllocator, peak_heap};
pub use harness::{Failure, Report, check, check_or_panic, fuzz};
pub use mutator::Mutator;
pub use target::{AllocBound, Target};

/// Every allocation of a program linking this crate is counted, per thread, so that a target
/// can bound the memory one input makes the parser take.
#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;
