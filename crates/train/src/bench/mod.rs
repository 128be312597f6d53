//! `pix2scene bench train`: full training iterations on fixed random data, as the PyTorch
//! yardstick (`bench/torch_reference.py`) measures them, with a breakdown of where the time
//! goes: the parts timed alone, and the convolutions' work per part and pass ([`PassWork`])
//! against the iteration's [`Floor`] and the CPU's measured [`Peak`].

mod peak;
mod work;

pub use peak::{Peak, measure_peak};
pub use work::{LayerWork, PassWork};

use std::time::Instant;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use pix2scene_render::RendererConfig;
use pix2scene_scene::MAX_LIGHTS;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::batch::{DeviceBatch, HostBatch, tensor};
use crate::config::TrainPreset;
use crate::device::{TrainDevice, init_threads};
use crate::error::Result;
use crate::floor::Floor;
use crate::noise::IterationNoise;
use crate::refine::RefineBatch;
use crate::trainer::Trainer;

/// The yardstick's lights (`bench/torch_reference.py`, `LIGHTS`): camera-frame positions and
/// colours.
const PEER_LIGHTS: [([f32; 3], [f32; 3]); MAX_LIGHTS] = [
    ([0.3, 0.6, 0.2], [0.8, 0.8, 0.8]),
    ([-0.5, 0.4, 0.1], [0.8, 0.1, 0.1]),
    ([0.4, -0.2, 0.3], [0.2, 0.8, 0.2]),
];

/// Timing results, printed as JSON by `pix2scene bench train --json`.
#[derive(Clone, Debug, Serialize)]
pub struct TrainBench {
    /// Always `"pix2scene-rust"`.
    pub r#impl: &'static str,
    /// Image side.
    pub res: usize,
    /// Base width.
    pub width: usize,
    /// Latent length.
    pub zdim: usize,
    /// Batch size.
    pub batch: usize,
    /// Critic steps per iteration.
    pub critic_steps: usize,
    /// Compute threads (rayon's global pool).
    pub threads: usize,
    /// Timed iterations (after one warm-up).
    pub iters: usize,
    /// Median seconds per full iteration.
    pub s_per_iter: f64,
    /// `1 / s_per_iter`.
    pub iters_per_s: f64,
    /// Median seconds of one critic step (penalty included).
    pub critic_step_s: f64,
    /// Median seconds of the encoder/decoder step.
    pub generator_step_s: f64,
    /// Median seconds of one regression step on kept targets (`optim.regress_steps`); 0
    /// without them.
    pub regress_step_s: f64,
    /// This CPU's peak FLOP/s, measured before the iterations.
    pub peak: Peak,
    /// The convolutions' FLOP of one iteration ([`Floor`]), in GFLOP.
    pub floor_gflop: f64,
    /// The estimated elementwise FLOP of one iteration (renders, priors), in GFLOP.
    pub elementwise_gflop: f64,
    /// `floor_gflop / s_per_iter`: the convolutions' work over the whole iteration's time.
    pub achieved_gflops: f64,
    /// `achieved_gflops` over the peak of `threads` threads.
    pub peak_fraction: f64,
    /// Breakdown of one iteration's work, measured separately (seconds per iteration).
    pub breakdown: Breakdown,
}

/// Where an iteration's time goes, each part timed alone and scaled to one iteration.
#[derive(Clone, Debug, Serialize)]
pub struct Breakdown {
    /// Surfel renderer forward + backward: `critic_steps + 2` renders of a batch.
    pub renderer_s: f64,
    /// The gradient penalty and its backward, all critic steps.
    pub gradient_penalty_s: f64,
    /// Adam updates of both optimizers.
    pub optimizer_s: f64,
    /// The per-pixel refinement of the reconstructions (`optim.refine_steps` Adam steps
    /// through the renderer); 0 when it is off.
    pub refinement_s: f64,
    /// The regression steps on kept targets (`optim.regress_steps`), whole steps with their
    /// optimizer updates; 0 without them.
    pub regression_s: f64,
    /// Everything else: the networks' convolutions forward and backward, and overhead.
    pub networks_and_rest_s: f64,
    /// The convolution kernels' time in the timed iterations, per iteration: the sum of
    /// `convolutions[..].seconds`.
    pub convolutions_s: f64,
    /// The convolutions' work and time per part and pass, per iteration, recorded in the timed
    /// iterations.
    pub convolutions: Vec<PassWork>,
    /// The same per convolution shape, largest work first.
    pub layers: Vec<LayerWork>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Times `iters` full iterations of `preset`'s networks on fixed random data (images uniform
/// in [0, 1], cameras uniform in [0, 1]³, the yardstick's three lights), after one warm-up.
///
/// # Errors
/// An unusable device name in the preset.
pub fn bench_train(preset: &TrainPreset, threads: usize, iters: usize) -> Result<TrainBench> {
    init_threads(threads);
    // On a thread of the pool, as `train` runs its loop.
    rayon::scope(|_| bench_on_pool(preset, iters))
}

/// The body of [`bench_train`], on a thread of rayon's pool.
fn bench_on_pool(preset: &TrainPreset, iters: usize) -> Result<TrainBench> {
    let device = TrainDevice::parse(&preset.run.device)?.autodiff_device();
    let (b, r) = (preset.optim.batch, preset.model.resolution);
    let c = preset.optim.critic_steps;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut host = HostBatch {
        batch: b,
        size: r,
        image: (0..b * 3 * r * r).map(|_| rng.random::<f32>()).collect(),
        depth: vec![0.0; b * r * r],
        mask: vec![1.0; b * r * r],
        normal: vec![0.0; b * r * r * 3],
        camera: (0..b * 3).map(|_| rng.random::<f32>()).collect(),
        light_pos: Vec::new(),
        light_color: Vec::new(),
        class: vec![0; b],
        // The same scenes every iteration: kept refined targets (if on) are refined further.
        scene: (0..b as u64).collect(),
    };
    for _ in 0..b {
        for (p, col) in PEER_LIGHTS {
            host.light_pos.extend_from_slice(&p);
            host.light_color.extend_from_slice(&col);
        }
    }
    let renderer = RendererConfig::new(r)
        .with_albedo([0.6; 3])
        .with_ambient([0.1; 3]);
    let mut trainer = Trainer::new(preset, renderer, &device);
    let batch = DeviceBatch::from_host(&host, preset.model.num_classes, &device);
    let lights = || (batch.light_pos.clone(), batch.light_color.clone());

    let floor = Floor::of(preset)?;
    let peak = measure_peak(rayon::current_num_threads(), 5);
    let (mut iter_s, mut critic_s, mut gen_s) = (Vec::new(), Vec::new(), Vec::new());
    let mut regress_s = Vec::new();
    for i in 0..=iters {
        if i == 1 {
            pix2scene_model::work::start_recording();
        }
        let noise = IterationNoise::draw(preset, i as u64);
        let t = Instant::now();
        let mut per_critic = Vec::new();
        for j in 0..c {
            let tc = Instant::now();
            trainer.critic_step(
                &batch,
                &noise.critic_z[j],
                &noise.critic_alpha[j],
                lights(),
                0,
            )?;
            per_critic.push(tc.elapsed().as_secs_f64());
        }
        let mut per_regress = Vec::new();
        for _ in 0..preset.optim.regress_steps {
            let tr = Instant::now();
            trainer.regress_step(&batch, false, 0)?;
            per_regress.push(tr.elapsed().as_secs_f64());
        }
        let tg = Instant::now();
        trainer.generator_step(&batch, &noise.generator_z, lights(), 0)?;
        let g = tg.elapsed().as_secs_f64();
        if i > 0 {
            iter_s.push(t.elapsed().as_secs_f64());
            critic_s.extend(per_critic);
            regress_s.extend(per_regress);
            gen_s.push(g);
        }
    }
    let records = pix2scene_model::work::take_records();
    let s_per_iter = median(iter_s);
    let regress_step_s = if regress_s.is_empty() {
        0.0
    } else {
        median(regress_s)
    };
    let regression_s = regress_step_s * preset.optim.regress_steps as f64;
    let mut breakdown = breakdown(
        &mut trainer,
        &batch,
        preset,
        iters.max(3),
        s_per_iter,
        regression_s,
    );
    let threads = rayon::current_num_threads();
    let peak_gflops = peak.gflops_all_threads;
    (breakdown.convolutions, breakdown.layers) =
        work::summarize(&records, iters.max(1), peak_gflops);
    breakdown.convolutions_s = breakdown.convolutions.iter().map(|p| p.seconds).sum();
    let floor_gflop = floor.convolution_flop as f64 * 1e-9;
    Ok(TrainBench {
        r#impl: "pix2scene-rust",
        res: r,
        width: preset.model.width,
        zdim: preset.model.z_dim,
        batch: b,
        critic_steps: c,
        threads,
        iters,
        s_per_iter,
        iters_per_s: 1.0 / s_per_iter,
        critic_step_s: median(critic_s),
        generator_step_s: median(gen_s),
        regress_step_s,
        floor_gflop,
        elementwise_gflop: floor.elementwise_flop as f64 * 1e-9,
        achieved_gflops: floor_gflop / s_per_iter,
        peak_fraction: floor_gflop / s_per_iter / peak_gflops,
        peak,
        breakdown,
    })
}

/// Times the parts of an iteration alone; `s_per_iter` and `regression_s` (its regression
/// steps) were timed in the loop.
fn breakdown(
    trainer: &mut Trainer,
    batch: &DeviceBatch,
    preset: &TrainPreset,
    reps: usize,
    s_per_iter: f64,
    regression_s: f64,
) -> Breakdown {
    let c = preset.optim.critic_steps;
    let (b, r, zd) = (
        preset.optim.batch,
        preset.model.resolution,
        preset.model.z_dim,
    );
    let device = trainer.device().clone();
    let time = |f: &mut dyn FnMut()| {
        f();
        median(
            (0..reps)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed().as_secs_f64()
                })
                .collect(),
        )
    };
    // Renderer: forward + backward of one batch of depth maps.
    let depth0: Vec<f32> = vec![0.9; b * r * r];
    let render = time(&mut || {
        let depth = tensor(&depth0, [b, r, r], &device).require_grad();
        let image = trainer.renderer().render_image(
            depth,
            batch.light_pos.clone(),
            batch.light_color.clone(),
        );
        let _grads = image.sum().backward();
    });
    // Gradient penalty forward + backward, critic weights tracked.
    let z: Vec<f32> = vec![0.1; b * zd];
    let alpha: Vec<f32> = vec![0.5; b];
    let gp = time(&mut || {
        let zt = tensor(&z, [b, zd], &device);
        let at = tensor(&alpha, [b], &device);
        let p = pix2scene_model::gradient_penalty(
            &trainer.critic,
            (batch.image.clone(), zt.clone()),
            (batch.image.clone().mul_scalar(0.5), zt),
            trainer.camera(batch),
            batch.class.clone(),
            at,
        );
        let _grads = p.mean().backward();
    });
    // Optimizer: one Adam step of each network, on constant gradients.
    let (mut opt_c, mut opt_g) = (Vec::new(), Vec::new());
    for _ in 0..=reps {
        let (tc, tg) = trainer.bench_optimizer_steps();
        opt_c.push(tc);
        opt_g.push(tg);
    }
    let refinement_s = if preset.optim.refine_steps > 0 {
        time(&mut || {
            let depth = tensor(&depth0, [b, r, r], &device);
            trainer.refiner.refine(RefineBatch {
                depth,
                image: batch.image.clone(),
                light_pos: batch.light_pos.clone(),
                light_color: batch.light_color.clone(),
            });
        })
    } else {
        0.0
    };
    let renderer_s = render * (c + 2) as f64;
    let gradient_penalty_s = gp * c as f64;
    let optimizer_s = median(opt_c) * c as f64 + median(opt_g);
    Breakdown {
        renderer_s,
        gradient_penalty_s,
        optimizer_s,
        refinement_s,
        regression_s,
        networks_and_rest_s: (s_per_iter
            - renderer_s
            - gradient_penalty_s
            - optimizer_s
            - refinement_s
            - regression_s)
            .max(0.0),
        convolutions_s: 0.0,
        convolutions: Vec::new(),
        layers: Vec::new(),
    }
}

/// Registers a small constant gradient for every float parameter of a module.
struct ConstantGrads(GradientsParams);

impl ModuleVisitor for ConstantGrads {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let g = param.val().inner().ones_like().mul_scalar(1e-4);
        self.0.register(param.id, g);
    }
}

impl Trainer {
    /// Times one Adam step of the critic and one of the encoder/decoder on constant gradients
    /// (for the benchmark's breakdown; it moves the weights). Returns `(critic_s, generator_s)`.
    fn bench_optimizer_steps(&mut self) -> (f64, f64) {
        let lr = self.preset.optim.lr;
        let mut grads = ConstantGrads(GradientsParams::new());
        self.critic.visit(&mut grads);
        let t = std::time::Instant::now();
        let critic = self.critic.clone();
        self.critic = self.opt_critic.step(lr, critic, grads.0);
        let critic_s = t.elapsed().as_secs_f64();
        let mut grads = ConstantGrads(GradientsParams::new());
        self.nets.visit(&mut grads);
        let t = std::time::Instant::now();
        let nets = self.nets.clone();
        self.nets = self.opt_gen.step(lr, nets, grads.0);
        (critic_s, t.elapsed().as_secs_f64())
    }
}
