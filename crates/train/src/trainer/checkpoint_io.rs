//! Saving and loading a trainer's state: weights, Adam moments and kept refined targets, in the
//! checkpoint layout of [`checkpoint`](crate::checkpoint).

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::{BurnpackStore, ModuleSnapshot};

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
            .write_checkpoint_files(&tmp)
            .and_then(|()| checkpoint::commit(&tmp, state))
            .inspect_err(|_| checkpoint::abandon(&tmp))?;
        checkpoint::prune(checkpoints, keep_last)?;
        Ok(dir)
    }

    /// Writes the weights, optimizer states and kept targets into staging directory `tmp`.
    fn write_checkpoint_files(&self, tmp: &Path) -> Result<()> {
        // Batch-norm running statistics keep their latest update pending per thread until
        // synchronized, and saving reads the synchronized value: `valid()` synchronizes them in
        // place (the returned copies are not needed).
        let _synced = (self.nets.valid(), self.critic.valid());
        save_module(&self.nets.encoder, &tmp.join("encoder.bpk"))?;
        save_module(&self.nets.decoder, &tmp.join("decoder.bpk"))?;
        save_module(&self.critic, &tmp.join("critic.bpk"))?;
        for (opt, name) in [
            (&self.opt_gen, "optim-generator.bpk"),
            (&self.opt_critic, "optim-critic.bpk"),
        ] {
            let path = tmp.join(name);
            opt.save(&path).map_err(|e| Error::Checkpoint {
                path: path.clone(),
                message: e.to_string(),
            })?;
        }
        if let Some(kept) = &self.targets {
            kept.write(&tmp.join(TARGETS_FILE))?;
        }
        Ok(())
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
        let mut required = vec![
            "encoder.bpk",
            "decoder.bpk",
            "critic.bpk",
            "optim-generator.bpk",
            "optim-critic.bpk",
        ];
        if self.targets.is_some() {
            required.push(TARGETS_FILE);
        }
        let state = checkpoint::verify(dir, &required)?;
        self.load_networks(dir)?;
        load_module(&mut self.critic, &dir.join("critic.bpk"))?;
        for (opt, name) in [
            (&mut self.opt_gen, "optim-generator.bpk"),
            (&mut self.opt_critic, "optim-critic.bpk"),
        ] {
            let path = dir.join(name);
            if !path.is_file() {
                return Err(Error::Checkpoint {
                    path,
                    message: "missing".into(),
                });
            }
            // Load into a freshly configured optimizer (betas, ε), so that a failed load leaves
            // `opt` as it was.
            *opt = adam_config(&self.preset.optim)
                .init()
                .load(&path)
                .map_err(|e| Error::Checkpoint {
                    path: path.clone(),
                    message: pix2scene_scene::one_line(&e.to_string()),
                })?;
        }
        if self.targets.is_some() {
            let pixels = self.preset.model.resolution.pow(2);
            self.targets = Some(RefinedTargets::read(&dir.join(TARGETS_FILE), pixels)?);
        }
        Ok(state)
    }
}

/// A checkpoint's kept refined targets (`optim.refine_keep`), see [`RefinedTargets`].
const TARGETS_FILE: &str = "refined-targets.bin";

/// Writes a module's weights (with parameter ids, which key the optimizer state) as burnpack.
fn save_module<M: ModuleSnapshot>(module: &M, path: &Path) -> Result<()> {
    let mut store = BurnpackStore::from_file(path).overwrite(true);
    module.save_into(&mut store).map_err(|e| Error::Checkpoint {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Reads a module's weights written by [`save_module`].
fn load_module<M: ModuleSnapshot>(module: &mut M, path: &Path) -> Result<()> {
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
