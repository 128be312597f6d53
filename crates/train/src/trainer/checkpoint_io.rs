//! Saving and loading a trainer's state: weights, Adam moments and kept refined targets, in the
//! checkpoint layout of [`checkpoint`](crate::checkpoint).

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::{BurnpackStore, ModuleSnapshot};
use pix2scene_model::FusedAdamConfig;

use super::{Trainer, adam_config};
use crate::checkpoint::{self, CheckpointState};
use crate::error::{Error, Result};
use crate::targets::RefinedTargets;

impl Trainer {
    /// Writes a checkpoint of the weights and optimizer states (and the kept refined targets,
    /// if any) into `checkpoints/`, atomically, and prunes older ones. Returns its directory.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Checkpoint`] naming the file.
    pub fn save_checkpoint(
        &self,
        checkpoints: &Path,
        state: &CheckpointState,
        keep_last: usize,
    ) -> Result<PathBuf> {
        let tmp = checkpoint::begin(checkpoints, state.step)?;
        let dir = self
            .write_weights(&tmp)
            .and_then(|()| checkpoint::commit(&tmp, state))
            .inspect_err(|_| checkpoint::abandon(&tmp))?;
        checkpoint::prune(checkpoints, keep_last)?;
        Ok(dir)
    }

    /// Writes the weights, both optimizer states and the kept refined targets (if any) into
    /// the directory `dir` (a checkpoint being assembled, see [`checkpoint::begin`]).
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Checkpoint`] naming the file.
    pub fn write_weights(&self, dir: &Path) -> Result<()> {
        // Batch-norm running statistics keep their latest update pending per thread until
        // synchronized, and saving reads the synchronized value: `valid()` synchronizes them in
        // place (the returned copies are not needed).
        let _synced = (self.nets.valid(), self.critic.valid());
        save_module(&self.nets.encoder, &dir.join("encoder.bpk"))?;
        save_module(&self.nets.decoder, &dir.join("decoder.bpk"))?;
        save_module(&self.critic, &dir.join("critic.bpk"))?;
        save_optimizer(&self.opt_gen, &dir.join("optim-generator.bpk"))?;
        save_optimizer(&self.opt_critic, &dir.join("optim-critic.bpk"))?;
        if let Some(kept) = &self.targets {
            kept.write(&dir.join(TARGETS_FILE))?;
        }
        Ok(())
    }

    /// The files [`Trainer::write_weights`] writes, for [`checkpoint::verify`].
    pub fn weight_files(&self) -> Vec<&'static str> {
        let mut files = vec![
            "encoder.bpk",
            "decoder.bpk",
            "critic.bpk",
            "optim-generator.bpk",
            "optim-critic.bpk",
        ];
        if self.targets.is_some() {
            files.push(TARGETS_FILE);
        }
        files
    }

    /// Loads the encoder's and decoder's weights alone (`encoder.bpk`, `decoder.bpk`) from
    /// `dir`, for inference: a checkpoint directory, or a model directory that holds only
    /// those two files. The critic and the optimizers keep their fresh state.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] naming a missing file or one that does not match the networks.
    pub fn load_networks(&mut self, dir: &Path) -> Result<()> {
        load_module(&mut self.nets.encoder, &dir.join("encoder.bpk"))?;
        load_module(&mut self.nets.decoder, &dir.join("decoder.bpk"))
    }

    /// Verifies checkpoint directory `dir` against its checksums (see [`checkpoint::verify`]),
    /// then loads weights and optimizer states (and the kept refined targets, when the run
    /// keeps them) from it. A checkpoint that fails verification changes nothing.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] naming a missing, altered or mismatched file.
    pub fn load_checkpoint(&mut self, dir: &Path) -> Result<CheckpointState> {
        let state = checkpoint::verify(dir, &self.weight_files())?;
        self.read_weights(dir)?;
        Ok(state)
    }

    /// Reads what [`Trainer::write_weights`] wrote into `dir` (verified by the caller).
    ///
    /// # Errors
    /// [`Error::Checkpoint`] naming a missing or mismatched file.
    pub fn read_weights(&mut self, dir: &Path) -> Result<()> {
        self.load_networks(dir)?;
        load_module(&mut self.critic, &dir.join("critic.bpk"))?;
        let adam = adam_config(&self.preset.optim);
        load_optimizer(&mut self.opt_gen, &adam, &dir.join("optim-generator.bpk"))?;
        load_optimizer(&mut self.opt_critic, &adam, &dir.join("optim-critic.bpk"))?;
        if self.targets.is_some() {
            let pixels = self.preset.model.resolution.pow(2);
            self.targets = Some(RefinedTargets::read(&dir.join(TARGETS_FILE), pixels)?);
        }
        Ok(())
    }
}

/// Writes an optimizer's state (Adam moments keyed by parameter id).
///
/// # Errors
/// [`Error::Checkpoint`] naming the file.
pub(crate) fn save_optimizer(opt: &ModuleOptimizer, path: &Path) -> Result<()> {
    opt.save(path).map_err(|e| Error::Checkpoint {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Reads an optimizer state written by [`save_optimizer`] into `opt`, configured by `config`
/// (betas, ε). A failed load leaves `opt` as it was.
///
/// # Errors
/// [`Error::Checkpoint`] naming a missing or unreadable file.
pub(crate) fn load_optimizer(
    opt: &mut ModuleOptimizer,
    config: &FusedAdamConfig,
    path: &Path,
) -> Result<()> {
    if !path.is_file() {
        return Err(Error::Checkpoint {
            path: path.to_path_buf(),
            message: "missing".into(),
        });
    }
    *opt = config.init().load(path).map_err(|e| Error::Checkpoint {
        path: path.to_path_buf(),
        message: pix2scene_scene::one_line(&e.to_string()),
    })?;
    Ok(())
}

/// A checkpoint's kept refined targets (`optim.refine_keep`), see [`RefinedTargets`].
const TARGETS_FILE: &str = "refined-targets.bin";

/// Writes a module's weights (with parameter ids, which key the optimizer state) as burnpack.
pub(crate) fn save_module<M: ModuleSnapshot>(module: &M, path: &Path) -> Result<()> {
    let mut store = BurnpackStore::from_file(path).overwrite(true);
    module.save_into(&mut store).map_err(|e| Error::Checkpoint {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Reads a module's weights written by [`save_module`].
pub(crate) fn load_module<M: ModuleSnapshot>(module: &mut M, path: &Path) -> Result<()> {
    if !path.is_file() {
        return Err(Error::Checkpoint {
            path: path.to_path_buf(),
            message: "missing".into(),
        });
    }
    let mut store = BurnpackStore::from_file(path);
    let result = module
        .load_from(&mut store)
        .map_err(|e| Error::Checkpoint {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    if !result.missing.is_empty() || !result.errors.is_empty() {
        let missing: Vec<&str> = result.missing.iter().map(|(p, _)| p.as_str()).collect();
        return Err(Error::Checkpoint {
            path: path.to_path_buf(),
            message: format!(
                "does not match the model (missing: {missing:?}, errors: {})",
                result.errors.len()
            ),
        });
    }
    Ok(())
}
