//! Adam (Kingma & Ba 2015) as burn 0.22.1 defines it, in one fused parallel pass per parameter
//! on `Flex` ([`crate::kernel`]), burn's own Adam (the reference) on every other device.

use burn::backend::flex::FlexTensor;
use burn::backend::{BackendTensor, DispatchAutodiffContext, DispatchTensor, DispatchTensorKind};
use burn::config::Config;
use burn::optim::{
    Adam, AdamConfig, AdamState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer,
};
use burn::tensor::{Device, Tensor};

use crate::kernel::{AdamScalars, adam_step, on_flex_f32};

/// Configuration of [`FusedAdam`]: burn's [`AdamConfig`] without weight decay, AMSGrad or
/// gradient clipping (the presets use none of them). Build the module optimizer with
/// [`FusedAdamConfig::init`].
#[derive(Config, Debug)]
pub struct FusedAdamConfig {
    /// β₁, the first moment's decay.
    #[config(default = 0.9)]
    pub beta_1: f32,
    /// β₂, the second moment's decay.
    #[config(default = 0.999)]
    pub beta_2: f32,
    /// ε, added to the second moment's square root (scaled by its bias correction, as burn).
    #[config(default = 1e-5)]
    pub epsilon: f32,
}

impl FusedAdamConfig {
    /// The module optimizer. Its state and records are burn Adam's ([`AdamState`]), so a
    /// checkpoint written with either loads into the other.
    pub fn init(&self) -> ModuleOptimizer {
        ModuleOptimizer::from(self.optimizer())
    }

    /// The optimizer itself, not wrapped in a module optimizer.
    fn optimizer(&self) -> FusedAdam {
        FusedAdam {
            config: self.clone(),
        }
    }

    /// burn's Adam with the same settings: the reference, and the path off `Flex`.
    fn reference(&self) -> Adam {
        AdamConfig::new()
            .with_beta_1(self.beta_1)
            .with_beta_2(self.beta_2)
            .with_epsilon(self.epsilon)
            .build()
    }
}

/// Adam with burn's update rule, state and bits, one parallel pass per parameter on `Flex`.
#[derive(Clone, Debug)]
pub struct FusedAdam {
    config: FusedAdamConfig,
}

impl FusedAdam {
    /// The step's scalars at step `time` (1 on the first), as burn computes them.
    fn scalars(&self, time: usize, lr: LearningRate) -> AdamScalars {
        let c = &self.config;
        let time = time as i32;
        let bias_correction2_sqrt = (1.0 - c.beta_2.powi(time)).sqrt();
        AdamScalars {
            beta_1: c.beta_1,
            beta_2: c.beta_2,
            combined: bias_correction2_sqrt / (1.0 - c.beta_1.powi(time)),
            epsilon: c.epsilon * bias_correction2_sqrt,
            lr: lr as f32,
        }
    }
}

/// The `Flex` float primitive of a tensor and its autodiff context, or `None` when it is not an
/// `f32` tensor on `Flex`.
fn flex<const D: usize>(t: &Tensor<D>) -> Option<(FlexTensor, DispatchAutodiffContext)> {
    if !on_flex_f32(t) {
        return None;
    }
    let DispatchTensor { kind, autodiff } = t.clone().into_dispatch();
    match kind {
        DispatchTensorKind::Flex(BackendTensor::Float(f)) => Some((f, autodiff)),
        _ => None,
    }
}

/// A tensor on `Flex` from its float primitive and autodiff context.
fn from_flex<const D: usize>(f: FlexTensor, autodiff: DispatchAutodiffContext) -> Tensor<D> {
    Tensor::from_dispatch(DispatchTensor {
        kind: DispatchTensorKind::Flex(BackendTensor::Float(f)),
        autodiff,
    })
}

impl FusedAdam {
    /// The fused step, or `None` where it does not apply (not `f32` on `Flex`, or an AMSGrad
    /// state from elsewhere).
    fn fused<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: &Tensor<D>,
        grad: &Tensor<D>,
        state: Option<&AdamState<D>>,
    ) -> Option<(Tensor<D>, AdamState<D>)> {
        let (p, context) = flex(tensor)?;
        let (g, _) = flex(grad)?;
        let (moments, time) = match state.map(|s| &s.momentum) {
            None => (None, 1),
            Some(m) if m.max_moment_2.is_none() => {
                let (m1, _) = flex(&m.moment_1)?;
                let (m2, _) = flex(&m.moment_2)?;
                (Some((m1, m2)), m.time + 1)
            }
            Some(_) => return None,
        };
        let (p, m1, m2) = adam_step(p, g, moments, self.scalars(time, lr));
        let momentum =
            AdaptiveMomentumState::new(time, from_flex(m1, context), from_flex(m2, context));
        Some((from_flex(p, context), AdamState::new(momentum)))
    }
}

impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        match self.fused(lr, &tensor, &grad, state.as_ref()) {
            Some((tensor, state)) => (tensor, Some(state)),
            None => self.config.reference().step(lr, tensor, grad, state),
        }
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        <Adam as Optimizer>::to_device(state, device)
    }
}

#[cfg(test)]
mod tests {
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::GradientsParams;
    use burn::tensor::DType;
    use burn::tensor::TensorData;

    use super::*;
    use crate::testutil::{Rng, device};

    /// A layer whose weight spans several parallel chunks (200·150 entries) and a small bias.
    fn layer(rng: &mut Rng, dev: &Device) -> Linear {
        let mut l = LinearConfig::new(200, 150).init(dev);
        let w: Vec<f32> = (0..200 * 150)
            .map(|_| rng.uniform(-0.1, 0.1) as f32)
            .collect();
        l.weight = l
            .weight
            .map(|_| Tensor::from_data(TensorData::new(w, [200, 150]), dev));
        l
    }

    fn bits(l: &Linear) -> Vec<u32> {
        let mut v: Vec<u32> = l
            .weight
            .val()
            .into_data()
            .iter::<f32>()
            .map(f32::to_bits)
            .collect();
        let b = l.bias.as_ref().expect("bias").val().into_data();
        v.extend(b.iter::<f32>().map(f32::to_bits));
        v
    }

    /// One step of `optim` on `Σ (l(x) − 0.3)²` for a batch drawn from `rng`.
    fn step(l: Linear, optim: &mut ModuleOptimizer, rng: &mut Rng, lr: f64) -> Linear {
        let dev = l.weight.device();
        let x: Vec<f32> = (0..8 * 200)
            .map(|_| rng.uniform(-1.0, 1.0) as f32)
            .collect();
        let x = Tensor::<2>::from_data(TensorData::new(x, [8, 200]), &dev);
        let loss = (l.forward(x).sub_scalar(0.3)).square().sum();
        let grads = GradientsParams::from_grads(loss.backward(), &l);
        optim.step(lr, l, grads)
    }

    /// The fused step gives burn Adam's bits at every step (the first, which creates the
    /// moments, and later ones, with a changing learning rate), and the two optimizers' records
    /// load into each other mid-run.
    #[test]
    fn fused_adam_gives_burn_adams_bits_and_shares_its_records() {
        let dev = device().autodiff();
        let config = FusedAdamConfig::new()
            .with_beta_1(0.5)
            .with_beta_2(0.9)
            .with_epsilon(1e-6);
        let start = layer(&mut Rng::new(3), &dev);
        let (mut ours, mut theirs) = (start.clone(), start);
        let (mut opt_ours, mut opt_theirs) =
            (config.init(), ModuleOptimizer::from(config.reference()));
        let (mut rng_ours, mut rng_theirs) = (Rng::new(9), Rng::new(9));
        for i in 0..6 {
            let lr = 1e-3 * (1.0 + i as f64);
            if i == 3 {
                // Swap the states: each optimizer continues from the other's record.
                let (a, b) = (opt_ours.to_record(), opt_theirs.to_record());
                opt_ours = config.init().load_record(b);
                opt_theirs = ModuleOptimizer::from(config.reference()).load_record(a);
            }
            ours = step(ours, &mut opt_ours, &mut rng_ours, lr);
            theirs = step(theirs, &mut opt_theirs, &mut rng_theirs, lr);
            assert_eq!(bits(&ours), bits(&theirs), "step {i}");
        }
        assert_ne!(
            bits(&ours),
            bits(&layer(&mut Rng::new(3), &dev)),
            "the steps moved the weights"
        );
    }

    /// On `Flex` the step takes the fused path (so the test above compares it with burn's), off
    /// `f32` it falls back to burn's.
    #[test]
    fn the_fused_path_runs_on_flex_f32() {
        let adam = FusedAdamConfig::new().optimizer();
        let t = Tensor::<1>::from_data(TensorData::new(vec![1.0f32, -2.0, 3.0], [3]), &device());
        let g = Tensor::<1>::from_data(TensorData::new(vec![0.5f32, 0.25, -1.0], [3]), &device());
        let (p, state) = adam.fused(1e-2, &t, &g, None).expect("fused on Flex f32");
        assert_eq!(state.momentum.time, 1);
        let (q, _) = adam
            .fused(1e-2, &p, &g, Some(&state))
            .expect("fused, second step");
        assert_eq!(
            adam.config
                .reference()
                .step(1e-2, t.clone(), g.clone(), None)
                .0
                .into_data(),
            p.clone().into_data()
        );
        assert_ne!(p.into_data(), q.into_data());
        let half = t.cast(DType::F64);
        assert!(adam.fused(1e-2, &half, &g.cast(DType::F64), None).is_none());
    }
}
