//! Training data: batches of scenes from a generator preset (drawn on the fly, in background
//! threads) or from a dataset directory, and the fixed held-out set.
//!
//! Batch `k` of a run is a pure function of the data config and `k`, so a resumed run sees the
//! same scenes as one that never stopped, whatever the number of producer threads.

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use pix2scene_render::RendererConfig;
use pix2scene_scene::{Generator, GeneratorConfig, Preset, Sample};

use crate::batch::HostBatch;
use crate::config::DataSection;
use crate::error::{Error, Result};
use crate::shards::{ShardCache, ShardedDataset};

/// Index of the first held-out scene of a generator: far above any training index
/// (`k · batch + b` stays below 2⁴⁸ for any feasible run), so the two sets are disjoint.
pub const HELD_OUT_BASE: u64 = 1 << 48;

/// Where scenes come from.
#[derive(Clone, Debug)]
pub enum SceneSource {
    /// Drawn on the fly by a seeded generator: every training position a new scene, or
    /// positions cycling through scenes `0 .. train_scenes` in a seeded order per epoch.
    Generator {
        /// The scene generator.
        generator: Arc<Generator>,
        /// Size of the finite training set; 0 for an endless stream.
        train_scenes: u64,
        /// Seed of the per-epoch orders (`data.seed`).
        seed: u64,
        /// Whether epoch `e` of a finite set shows its scenes under lighting `e`
        /// (`data.relight`).
        relight: bool,
    },
    /// Streamed from a dataset directory, one shard in memory per reader; the last `held_out`
    /// records are held out.
    Dataset(Arc<ShardedDataset>),
    /// The views of 3D-IQTT questions `0 .. questions` without their answers (Pix2Scene's
    /// unsupervised terms; see [`crate::iqtt`]): position `p` is view `id % 4` of question
    /// `id / 4`, `id` being entry `p mod 4·questions` of epoch `⌊p / 4·questions⌋`'s seeded
    /// order. Held-out views are those of the validation questions.
    QuestionViews {
        /// The `iqtt` generator.
        generator: Arc<Generator>,
        /// Number of training questions.
        questions: u64,
        /// Seed of the per-epoch orders.
        seed: u64,
    },
}

impl SceneSource {
    /// Builds the source named by a `[data]` section, for images of side `size`.
    ///
    /// # Errors
    /// An unknown preset, an unreadable or corrupt dataset, a dataset of another image size or
    /// with too few records for the held-out set.
    pub fn open(data: &DataSection, size: usize) -> Result<Self> {
        if data.dir.is_empty() {
            let preset: Preset = data.preset.parse().map_err(|_| Error::InvalidValue {
                key: "data.preset".into(),
                value: data.preset.clone(),
                message: format!(
                    "unknown preset (expected one of {})",
                    Preset::ALL.map(Preset::name).join(", ")
                ),
            })?;
            if preset == Preset::Iqtt {
                return Err(Error::InvalidValue {
                    key: "data.preset".into(),
                    value: data.preset.clone(),
                    message: "3D-IQTT questions are trained with `pix2scene iqtt`".into(),
                });
            }
            let mut config = GeneratorConfig::new(preset, size, data.seed);
            [config.lights.count_min, config.lights.count_max] = data.light_count;
            config.lights.random_colors = data.random_light_colors;
            config.lights.channel_colors = data.channel_light_colors;
            let generator = Generator::new(config)?;
            return Ok(Self::Generator {
                generator: Arc::new(generator),
                train_scenes: data.train_scenes,
                seed: data.seed,
                relight: data.relight,
            });
        }
        let dataset = ShardedDataset::open(Path::new(&data.dir), size, data.held_out, data.seed)?;
        Ok(Self::Dataset(Arc::new(dataset)))
    }

    /// The generator configuration: camera sampling, lights and shading constants of the
    /// scenes (the generator's own, or the one recorded in the dataset's manifest).
    pub fn generator_config(&self) -> &GeneratorConfig {
        match self {
            Self::Generator { generator, .. } | Self::QuestionViews { generator, .. } => {
                generator.config()
            }
            Self::Dataset(d) => d.generator_config(),
        }
    }

    /// The renderer matching the data at `size`² pixels: the generator's (or dataset's) shading
    /// constants and field of view, so that generated and real images are shaded alike.
    pub fn renderer_config(&self, size: usize) -> RendererConfig {
        let config = self.generator_config();
        RendererConfig::from_shading(size, &config.shading).with_fov_y_deg(config.camera.fov_y_deg)
    }

    /// Names of the scenes' class labels, in label order: the `shapenet-like` categories (or the
    /// user's OBJ folders), empty for presets whose scenes carry no label.
    pub fn classes(&self) -> Vec<String> {
        if self.generator_config().preset != Preset::ShapenetLike {
            return Vec::new();
        }
        match self {
            Self::Generator { generator, .. } | Self::QuestionViews { generator, .. } => {
                generator.classes()
            }
            Self::Dataset(d) => d.classes().to_vec(),
        }
    }

    /// Checks a class-conditional model's `model.num_classes` against the scenes' labels: 0, or
    /// exactly the number of classes the scenes are labelled with.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for `model.num_classes`, naming the scenes' classes.
    pub fn check_classes(&self, num_classes: usize) -> Result<()> {
        let classes = self.classes();
        if num_classes == 0 || num_classes == classes.len() {
            return Ok(());
        }
        let preset = self.generator_config().preset;
        let message = if classes.is_empty() {
            format!("the {preset} scenes carry no class label (shapenet-like scenes do); use 0")
        } else {
            format!(
                "the {preset} scenes have {} classes ({}); use {} or 0",
                classes.len(),
                classes.join(", "),
                classes.len()
            )
        };
        Err(Error::InvalidValue {
            key: "model.num_classes".into(),
            value: num_classes.to_string(),
            message,
        })
    }

    /// Training batch `k` of `batch` scenes, reading dataset shards through `cache`: the
    /// scenes' identifiers in the training set and the scenes.
    ///
    /// Positions `k·batch .. (k+1)·batch` of the run's stream of training scenes. Endless
    /// generator: position `p` is scene `p`. Finite generator (`data.train_scenes = N`):
    /// position `p` is entry `p mod N` of epoch `⌊p / N⌋`'s seeded order of scenes `0 .. N`,
    /// under lighting `⌊p / N⌋` with `data.relight` ([`Generator::relit`]).
    /// Dataset: the seeded per-epoch order of [`ShardedDataset`], identified by record index.
    ///
    /// # Errors
    /// A dataset shard that cannot be read, naming the file.
    pub fn train_samples(
        &self,
        k: u64,
        batch: usize,
        cache: &mut ShardCache,
    ) -> Result<(Vec<u64>, Vec<Sample>)> {
        let positions = (0..batch as u64).map(|b| k * batch as u64 + b);
        match self {
            Self::Generator {
                generator,
                train_scenes,
                seed,
                relight,
            } => {
                let (ids, samples) = positions
                    .map(|p| match *train_scenes {
                        0 => (p, generator.sample(p)),
                        n => {
                            let id = cache.epoch_order(p / n, n, *seed)[(p % n) as usize];
                            let lighting = if *relight { p / n } else { 0 };
                            (id, generator.relit(id, lighting))
                        }
                    })
                    .unzip();
                Ok((ids, samples))
            }
            Self::QuestionViews {
                generator,
                questions,
                seed,
            } => {
                let views = 4 * questions;
                Ok(positions
                    .map(|p| {
                        let id = cache.epoch_order(p / views, views, *seed)[(p % views) as usize];
                        let question = generator.question(id / 4);
                        (id, question.views[(id % 4) as usize].clone())
                    })
                    .unzip())
            }
            Self::Dataset(d) => {
                let (ids, samples): (Vec<u64>, Vec<Sample>) = positions
                    .map(|p| d.train_sample(p, cache))
                    .collect::<Result<Vec<_>>>()?
                    .into_iter()
                    .unzip();
                check_labels(d, &samples)?;
                Ok((ids, samples))
            }
        }
    }

    /// Training batch `k` of `batch` scenes of side `size`, packed with their identifiers
    /// ([`SceneSource::train_samples`]).
    ///
    /// # Errors
    /// As [`SceneSource::train_samples`] and [`HostBatch::from_samples`].
    pub fn train_batch(
        &self,
        k: u64,
        batch: usize,
        size: usize,
        cache: &mut ShardCache,
    ) -> Result<HostBatch> {
        let (ids, samples) = self.train_samples(k, batch, cache)?;
        let mut host = HostBatch::from_samples(&samples, size)?;
        host.scene = ids;
        Ok(host)
    }

    /// The held-out scenes: generator indices `HELD_OUT_BASE + i`, the dataset's last records,
    /// or the views of questions `HELD_OUT_BASE + i/4`.
    ///
    /// # Errors
    /// A dataset shard that cannot be read, naming the file.
    pub fn held_out(&self, count: usize) -> Result<Vec<Sample>> {
        match self {
            Self::Generator { generator, .. } => Ok((0..count as u64)
                .map(|i| generator.sample(HELD_OUT_BASE + i))
                .collect()),
            Self::QuestionViews { generator, .. } => Ok((0..count as u64)
                .map(|i| generator.question(HELD_OUT_BASE + i / 4).views[(i % 4) as usize].clone())
                .collect()),
            Self::Dataset(d) => {
                let mut held = d.held_out()?;
                held.truncate(count);
                check_labels(d, &held)?;
                Ok(held)
            }
        }
    }
}

/// Checks that every class label of a dataset's samples names one of its manifest's classes.
///
/// # Errors
/// [`Error::Data`] naming the label and the number of classes.
fn check_labels(dataset: &ShardedDataset, samples: &[Sample]) -> Result<()> {
    let n = dataset.classes().len();
    match samples
        .iter()
        .find_map(|s| s.class.filter(|&c| c as usize >= n))
    {
        Some(label) => Err(Error::Data(format!(
            "class label {label} is not one of the manifest's {n} classes"
        ))),
        None => Ok(()),
    }
}

/// Background producers of training batches, delivering batch `start`, `start + 1`, … in order.
///
/// Worker `w` of `W` builds the batches `k ≡ w (mod W)` into its own bounded queue, and the
/// consumer takes from the queues in turn, so the order never depends on thread timing.
pub struct Prefetcher {
    next: u64,
    start: u64,
    queues: Vec<Receiver<Result<HostBatch>>>,
    handles: Vec<JoinHandle<()>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Prefetcher {
    /// Starts `workers` threads producing batches of `batch` scenes from batch index `start`.
    pub fn start(
        source: SceneSource,
        size: usize,
        batch: usize,
        start: u64,
        workers: usize,
        prefetch: usize,
    ) -> Self {
        let workers = workers.max(1);
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut queues = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for w in 0..workers as u64 {
            let (tx, rx): (SyncSender<Result<HostBatch>>, _) = sync_channel(prefetch.max(1));
            let source = source.clone();
            let stop = stop.clone();
            let handle = std::thread::Builder::new()
                .name(format!("pix2scene-data-{w}"))
                .spawn(move || {
                    let mut k = start + w;
                    let mut cache = ShardCache::default();
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let batch = source.train_batch(k, batch, size, &mut cache);
                        if tx.send(batch).is_err() {
                            break; // the consumer is gone
                        }
                        k += workers as u64;
                    }
                })
                .expect("spawning a data thread");
            queues.push(rx);
            handles.push(handle);
        }
        Self {
            next: start,
            start,
            queues,
            handles,
            stop,
        }
    }

    /// The next batch, waiting for it if it is not ready.
    ///
    /// # Errors
    /// [`Error::Data`] when a producer thread died, or the producer's own error.
    pub fn next_batch(&mut self) -> Result<HostBatch> {
        let w = ((self.next - self.start) % self.queues.len() as u64) as usize;
        self.next += 1;
        self.queues[w]
            .recv()
            .map_err(|_| Error::Data("a producer thread stopped".into()))?
    }
}

impl Drop for Prefetcher {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        // Unblock producers waiting on full queues, then wait for them.
        self.queues.clear();
        for handle in self.handles.drain(..) {
            let _joined = handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pix2scene_scene::MAX_LIGHTS;

    fn boxes(size: usize) -> SceneSource {
        let data = DataSection {
            preset: "boxes".into(),
            seed: 3,
            ..DataSection::default()
        };
        SceneSource::open(&data, size).unwrap()
    }

    #[test]
    fn prefetched_batches_match_direct_draws_for_any_worker_count() {
        let source = boxes(8);
        let direct: Vec<HostBatch> = (5..9)
            .map(|k| {
                let batch = source.train_batch(k, 2, 8, &mut ShardCache::default());
                batch.unwrap()
            })
            .collect();
        assert_eq!(
            direct[0].scene,
            [10, 11],
            "endless stream: position p is scene p"
        );
        for workers in [1, 3] {
            let mut pf = Prefetcher::start(source.clone(), 8, 2, 5, workers, 2);
            for expected in &direct {
                assert_eq!(&pf.next_batch().unwrap(), expected);
            }
        }
    }

    #[test]
    fn a_finite_training_set_visits_each_scene_once_per_epoch() {
        let data = DataSection {
            seed: 3,
            train_scenes: 10,
            ..DataSection::default()
        };
        let source = SceneSource::open(&data, 8).unwrap();
        let endless = boxes(8);
        let mut cache = ShardCache::default();
        // 6 batches of 5: three epochs of 10 scenes.
        let batches: Vec<HostBatch> = (0..6)
            .map(|k| source.train_batch(k, 5, 8, &mut cache).unwrap())
            .collect();
        let epochs: Vec<Vec<u64>> = batches
            .chunks(2)
            .map(|pair| pair.iter().flat_map(|b| b.scene.clone()).collect())
            .collect();
        for epoch in &epochs {
            let mut sorted = epoch.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..10).collect::<Vec<u64>>());
        }
        assert_ne!(epochs[0], epochs[1], "epochs are shuffled differently");
        assert_ne!(epochs[1], epochs[2], "epochs are shuffled differently");
        // Each identifier is the endless stream's scene of that index, and a fresh cache
        // gives the same batch.
        for (k, b) in batches.iter().enumerate() {
            for (i, &id) in b.scene.iter().enumerate() {
                let (_, scene) = endless
                    .train_samples(id, 1, &mut ShardCache::default())
                    .unwrap();
                let expected = HostBatch::from_samples(&scene, 8).unwrap();
                assert_eq!(b.camera[i * 3..i * 3 + 3], expected.camera[..]);
                assert_eq!(b.depth[i * 64..(i + 1) * 64], expected.depth[..]);
            }
            let fresh = source.train_batch(k as u64, 5, 8, &mut ShardCache::default());
            assert_eq!(&fresh.unwrap(), b);
        }
    }

    #[test]
    fn relighting_shows_each_epoch_new_lights_on_the_same_geometry() {
        let data = |relight| DataSection {
            train_scenes: 4,
            relight,
            ..DataSection::default()
        };
        let mut cache = ShardCache::default();
        let plain = SceneSource::open(&data(false), 8).unwrap();
        let relit = SceneSource::open(&data(true), 8).unwrap();
        // Batch k of 4 scenes is exactly epoch k.
        let draw = |source: &SceneSource, k, cache: &mut ShardCache| {
            source.train_batch(k, 4, 8, cache).unwrap()
        };
        let first = draw(&relit, 0, &mut cache);
        assert_eq!(
            first,
            draw(&plain, 0, &mut cache),
            "the first epoch shows the scenes' own lights"
        );
        for k in 1..3 {
            let (p, r) = (draw(&plain, k, &mut cache), draw(&relit, k, &mut cache));
            assert_eq!(r.scene, p.scene, "same order of scenes");
            assert_eq!(
                (&r.depth, &r.mask, &r.camera),
                (&p.depth, &p.mask, &p.camera)
            );
            for i in 0..4 {
                let (a, b) = (i * 3 * MAX_LIGHTS, (i + 1) * 3 * MAX_LIGHTS);
                assert_ne!(r.light_pos[a..b], p.light_pos[a..b], "epoch {k}, scene {i}");
                let j = first.scene.iter().position(|&id| id == r.scene[i]).unwrap();
                let (c, d) = (j * 3 * MAX_LIGHTS, (j + 1) * 3 * MAX_LIGHTS);
                assert_ne!(
                    r.light_pos[a..b],
                    first.light_pos[c..d],
                    "new at every epoch"
                );
            }
            assert_ne!(r.image, p.image);
        }
    }

    #[test]
    fn held_out_scenes_differ_from_training_scenes() {
        let source = boxes(8);
        let (_, train) = source
            .train_samples(0, 4, &mut ShardCache::default())
            .unwrap();
        let held = source.held_out(4).unwrap();
        for h in &held {
            assert!(train.iter().all(|t| t.camera != h.camera));
        }
    }

    #[test]
    fn light_options_reach_the_generator() {
        // The lit (non-padding) light colours of 16 on-the-fly scenes.
        let colours = |light_count: [usize; 2], random: bool, channel: bool| {
            let data = DataSection {
                light_count,
                random_light_colors: random,
                channel_light_colors: channel,
                ..DataSection::default()
            };
            let source = SceneSource::open(&data, 8).unwrap();
            let b = source
                .train_batch(0, 16, 8, &mut ShardCache::default())
                .unwrap();
            b.light_color
                .chunks(3)
                .filter(|c| c.iter().any(|&v| v > 0.0))
                .map(|c| [c[0], c[1], c[2]])
                .collect::<Vec<_>>()
        };
        let white = colours([1, 3], false, false);
        assert!(white.iter().all(|c| c[0] == c[1] && c[1] == c[2]));
        assert!(white.len() < 3 * 16, "1 to 3 lights per scene");
        let coloured = colours([3, 3], true, false);
        assert_eq!(coloured.len(), 3 * 16, "three lights in every scene");
        assert!(coloured.iter().all(|c| c[0] != c[1] || c[1] != c[2]));
        let (r, g, b) = ([0.7, 0.0, 0.0], [0.0, 0.7, 0.0], [0.0, 0.0, 0.7]);
        assert_eq!(colours([3, 3], false, true), [r, g, b].repeat(16));
    }

    #[test]
    fn unknown_preset_is_named() {
        let data = DataSection {
            preset: "boxs".into(),
            ..DataSection::default()
        };
        let msg = SceneSource::open(&data, 8).unwrap_err().to_string();
        assert!(
            msg.starts_with("data.preset = boxs: unknown preset (expected one of boxes, "),
            "{msg}"
        );
    }
}
