use burn::tensor::{Tensor, TensorData};
use pix2scene_render::{RenderImpl, RendererConfig};
use pix2scene_scene::ShadingConstants;

use super::{DepthRefiner, RefineBatch};
use crate::planarity::PlanarityPrior;

const R: usize = 32;
const BATCH: usize = 3;
const FOV: f32 = 26.0;

/// A refiner of `steps` steps on the training device, and a batch to refine: the surfel images
/// of walls with a box in front (a depth step) under three coloured lights, and starting maps
/// that are the true depth blurred.
struct Case {
    refiner: DepthRefiner,
    batch: RefineBatch,
}

fn case(steps: usize) -> Case {
    let device = crate::TrainDevice::Cpu.autodiff_device();
    let shading = ShadingConstants::default();
    let renderer = RendererConfig::from_shading(R, &shading).init(&device);
    let prior = PlanarityPrior::new(FOV, R, 0.002, &device);
    let refiner = DepthRefiner::new(renderer.clone(), prior, steps, 0.003, 10.0, 3.0);
    let truth: Vec<f32> = (0..BATCH * R * R)
        .map(|i| {
            let (b, r, c) = (i / (R * R), (i / R) % R, i % R);
            let wall = 0.9 + 0.004 * (c as f32) - 0.002 * (r as f32) + 0.03 * b as f32;
            let inside = (10 + b..20 + b).contains(&r) && (8..18 + 2 * b).contains(&c);
            if inside { wall - 0.2 } else { wall }
        })
        .collect();
    // A 5×5 box blur of the truth: the layout, the box smeared into the wall.
    let start: Vec<f32> = (0..BATCH * R * R)
        .map(|i| {
            let (b, r, c) = (i / (R * R), (i / R) % R, i % R);
            let (mut sum, mut count) = (0.0, 0.0);
            for rr in r.saturating_sub(2)..(r + 3).min(R) {
                for cc in c.saturating_sub(2)..(c + 3).min(R) {
                    sum += truth[b * R * R + rr * R + cc];
                    count += 1.0;
                }
            }
            sum / count
        })
        .collect();
    let tensor = |v: Vec<f32>| Tensor::<3>::from_data(TensorData::new(v, [BATCH, R, R]), &device);
    let lights: Vec<f32> = (0..BATCH)
        .flat_map(|b| {
            let o = 0.1 * b as f32;
            [0.4 + o, 0.5, 0.3, -0.3, 0.6 - o, 0.2, 0.1, -0.2 + o, 0.5]
        })
        .collect();
    let colors: Vec<f32> = [0.7, 0.0, 0.0, 0.0, 0.7, 0.0, 0.0, 0.0, 0.7].repeat(BATCH);
    let light_pos = Tensor::<3>::from_data(TensorData::new(lights, [BATCH, 3, 3]), &device);
    let light_color = Tensor::<3>::from_data(TensorData::new(colors, [BATCH, 3, 3]), &device);
    let image = renderer.render_image(tensor(truth), light_pos.clone(), light_color.clone());
    Case {
        refiner,
        batch: RefineBatch {
            depth: tensor(start),
            image,
            light_pos,
            light_color,
        },
    }
}

impl Case {
    fn host(&self) -> Vec<f32> {
        let b = &self.batch;
        assert_eq!(
            self.refiner
                .renderer
                .implementation_for(&b.depth, &b.light_pos, &b.light_color),
            RenderImpl::Fused,
            "the host path is taken"
        );
        self.refiner.refine(b.clone())
    }

    fn reference(&self) -> Vec<f32> {
        self.refiner.refine_reference(self.batch.clone())
    }

    fn start(&self) -> Vec<f32> {
        self.batch.depth.clone().into_data().try_to_vec().unwrap()
    }

    fn objective(&self, depth: &[f32]) -> f32 {
        let b = &self.batch;
        let d = Tensor::<3>::from_data(
            TensorData::new(depth.to_vec(), [BATCH, R, R]),
            &b.depth.device(),
        );
        self.refiner
            .objective(
                d,
                b.image.clone(),
                b.light_pos.clone(),
                b.light_color.clone(),
            )
            .into_scalar::<f32>()
    }
}

/// Mean and largest |ln a − ln b|.
fn log_gap(a: &[f32], b: &[f32]) -> (f32, f32) {
    let gaps: Vec<f32> = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x.ln() - y.ln()).abs())
        .collect();
    let mean = gaps.iter().sum::<f32>() / gaps.len() as f32;
    (mean, gaps.iter().fold(0.0, |m, g| m.max(*g)))
}

/// The fast path computes the reference's refinement: step for step at first; later, where
/// the prior's |Δ²| crosses its kink at 0, rounding can pick the other side and the two walk
/// apart a little, to the same objective.
#[test]
fn host_refinement_follows_the_tensor_reference() {
    let short = case(5);
    let start = short.start();
    let (host, reference) = (short.host(), short.reference());
    let (moved, _) = log_gap(&start, &reference);
    let (_, apart) = log_gap(&host, &reference);
    assert!(
        moved > 1e-3,
        "5 steps: the reference moved by {moved} on average"
    );
    assert!(
        apart < 5e-4,
        "5 steps: host and reference {apart} apart in log depth"
    );

    let long = case(40);
    let (host, reference) = (long.host(), long.reference());
    let (moved, _) = log_gap(&start, &reference);
    let (apart, _) = log_gap(&host, &reference);
    assert!(
        apart < 0.1 * moved,
        "40 steps: host and reference {apart} apart on average (moved {moved})"
    );
    let (o_start, o_host, o_ref) = (
        long.objective(&start),
        long.objective(&host),
        long.objective(&reference),
    );
    assert!(
        o_ref < 0.5 * o_start,
        "40 steps: objective {o_start} → {o_ref}"
    );
    assert!(
        (o_host - o_ref).abs() < 0.01 * (o_start - o_ref),
        "40 steps: objective host {o_host} vs reference {o_ref} (from {o_start})"
    );
}

#[test]
fn host_refinement_does_not_depend_on_the_thread_count() {
    let case = case(10);
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| case.host())
    };
    let one = on(1);
    assert_eq!(one, on(2), "1 vs 2 threads");
    assert_eq!(one, on(3), "1 vs 3 threads");
}
