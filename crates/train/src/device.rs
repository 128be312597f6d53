//! Where training runs: burn's `flex` CPU backend by default, GPUs behind cargo features, and the
//! size of the global compute thread pool.

use burn::tensor::Device;

use crate::error::{Error, Result};

/// A compute device named in a preset (`run.device`) or on the command line (`--device`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrainDevice {
    /// burn's pure-Rust `flex` CPU backend (always available).
    Cpu,
    /// burn's `wgpu` backend (cargo feature `wgpu`).
    Wgpu,
    /// burn's CUDA backend (cargo feature `cuda`).
    Cuda,
}

impl TrainDevice {
    /// Parses `cpu`, `wgpu` or `cuda`.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming `run.device` for an unknown name, or for a GPU backend this
    /// binary was built without.
    pub fn parse(name: &str) -> Result<Self> {
        let bad = |message: &str| Error::InvalidValue {
            key: "run.device".into(),
            value: name.into(),
            message: message.into(),
        };
        match name {
            "cpu" => Ok(Self::Cpu),
            "wgpu" if cfg!(feature = "wgpu") => Ok(Self::Wgpu),
            "cuda" if cfg!(feature = "cuda") => Ok(Self::Cuda),
            "wgpu" => Err(bad(
                "this build has no wgpu backend (rebuild with --features wgpu)",
            )),
            "cuda" => Err(bad(
                "this build has no cuda backend (rebuild with --features cuda)",
            )),
            _ => Err(bad("unknown device (expected cpu, wgpu or cuda)")),
        }
    }

    /// The burn device, with autodiff enabled (training needs gradients).
    pub fn autodiff_device(self) -> Device {
        let device = match self {
            Self::Cpu => Device::flex(),
            #[cfg(feature = "wgpu")]
            Self::Wgpu => Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
            #[cfg(feature = "cuda")]
            Self::Cuda => Device::cuda(0),
            #[allow(unreachable_patterns)]
            _ => unreachable!("parse() rejects backends this build lacks"),
        };
        device.autodiff()
    }
}

/// Sizes rayon's global pool, which burn's `flex` backend and the data producers use.
///
/// `threads = 0` keeps rayon's default (one thread per core). The global pool can be sized only
/// once per process; a second call with a different size is ignored when the pool already
/// exists (tests run many trainers in one process).
pub fn init_threads(threads: usize) {
    if threads > 0 {
        // Err means the pool was already built; keeping it is the only option.
        let _already_built = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global();
    }
}
