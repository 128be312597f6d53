//! Paper Eq. 6: the MINE estimate of the mutual information between the scene and view parts
//! of the code (Belghazi et al. 2018), with its bias-corrected gradient.

use burn::tensor::{Int, Tensor, TensorData, assert_shape};

use crate::statistics::StatisticsNetwork;

/// The exponential moving average of `E[e^T]` over the product-of-marginals batches, the
/// denominator of MINE's bias-corrected gradient (Belghazi et al. 2018, section 3.2).
///
/// Keep one per statistics network across training steps (and in checkpoints: it is
/// `rate` and `value`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MineAverage {
    /// Weight of the newest batch, in `(0, 1]` (Belghazi et al.'s reference code: 0.01).
    pub rate: f64,
    /// The average so far; `None` before the first batch.
    pub value: Option<f64>,
}

impl Default for MineAverage {
    /// Rate 0.01, no batch seen.
    fn default() -> Self {
        Self::new(0.01)
    }
}

impl MineAverage {
    /// An average that has seen no batch, weighting each new one by `rate`.
    ///
    /// # Panics
    /// If `rate` is not in `(0, 1]`.
    pub fn new(rate: f64) -> Self {
        assert!(
            rate > 0.0 && rate <= 1.0,
            "MINE average rate {rate} not in (0, 1]"
        );
        Self { rate, value: None }
    }

    /// Adds one batch's mean of `e^T` and returns the new average: `(1 − rate)·average +
    /// rate·batch_mean`, or `batch_mean` itself for the first batch.
    pub fn update(&mut self, batch_mean: f64) -> f64 {
        let value = match self.value {
            Some(v) => (1.0 - self.rate) * v + self.rate * batch_mean,
            None => batch_mean,
        };
        self.value = Some(value);
        value
    }
}

/// The two forms of the estimate a training step needs.
#[derive(Clone, Debug)]
pub struct MineEstimate {
    /// The Donsker–Varadhan estimate `mean_i T(s_i, v_i) − ln mean_i e^T(s_i, v_π(i))` on the
    /// batch, nats, `[1]`, with its plain minibatch gradient (biased: the expectation in the
    /// logarithm's denominator is estimated on the batch).
    pub estimate: Tensor<1>,
    /// The same value with the bias-corrected gradient, `[1]`: the gradient of
    /// `mean T_joint − mean e^T_marginal / a`, with `a` the moving average of `E[e^T]` (including
    /// this batch), held constant. The statistics network ascends it and the encoder descends
    /// it: the gradient reaches both its parameters and the codes.
    pub corrected: Tensor<1>,
}

/// Paper Eq. 6: the MINE lower bound on `I(z_scene; z_view)` on one batch of codes.
///
/// Joint samples are the batch's own pairs `(s_i, v_i)`; samples of the product of the
/// marginals pair each scene code with the view code of another question, `(s_i, v_π(i))`,
/// for the given permutation `π` (drawn by the caller from its seeded generator). The codes
/// are not detached: unlike the authors' released code, the gradient reaches the encoder, which
/// minimizes the estimate as the paper says. `average` takes this batch's `mean e^T` (one
/// update per call). The logarithm of the mean is taken around the batch's largest `T`, so
/// `e^T` never overflows in `f32`.
///
/// # Shapes
/// - `z_scene`: `[batch, scene_dim]`, the scene part of the codes (`z[..118]` in the paper)
/// - `z_view`: `[batch, view_dim]`, the view part (`z[118..]`)
/// - `permutation`: `batch` indices, a permutation of `0..batch`
///
/// # Panics
/// If the shapes disagree with the network or `permutation` is not a permutation of
/// `0..batch`.
pub fn mine(
    statistics: &StatisticsNetwork,
    z_scene: Tensor<2>,
    z_view: Tensor<2>,
    permutation: &[usize],
    average: &mut MineAverage,
) -> MineEstimate {
    let [batch, _] = z_scene.dims();
    assert_shape!(z_view, [batch, _]);
    let mut seen = vec![false; batch];
    for &i in permutation {
        assert!(
            i < batch && !seen[i],
            "not a permutation of 0..{batch}: {permutation:?}"
        );
        seen[i] = true;
    }
    assert_eq!(permutation.len(), batch, "permutation of {batch} codes");
    let device = z_view.device();
    let order: Vec<i64> = permutation.iter().map(|&i| i as i64).collect();
    let order = Tensor::<1, Int>::from_data(TensorData::new(order, [batch]), &device);
    let joint = statistics.forward(z_scene.clone(), z_view.clone()).mean();
    let marginal = statistics.forward(z_scene, z_view.select(0, order));
    let shift = f64::from(marginal.clone().detach().max().into_scalar::<f32>());
    // mean e^(T − shift): its logarithm plus the shift is ln mean e^T.
    let shifted = marginal.sub_scalar(shift).exp().mean();
    let estimate = joint.clone() - shifted.clone().log().add_scalar(shift);
    let batch_mean = f64::from(shifted.clone().detach().into_scalar::<f32>()) * shift.exp();
    let denominator = average.update(batch_mean);
    let surrogate = joint - shifted.mul_scalar(shift.exp() / denominator);
    let corrected = estimate.clone().detach() + surrogate.clone() - surrogate.detach();
    MineEstimate {
        estimate,
        corrected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statistics::StatisticsConfig;
    use crate::testutil::{Rng, device, to_vec};
    use burn::module::{Module, Param};
    use burn::nn::Linear;
    use burn::optim::{AdamConfig, GradientsParams};
    use burn::tensor::Device;

    /// A network of the given sizes with weights drawn from `rng` (burn's own initializer
    /// draws from a generator shared by the tests running in parallel).
    fn network(
        scene: usize,
        view: usize,
        width: usize,
        rng: &mut Rng,
        dev: &Device,
    ) -> StatisticsNetwork {
        let mut net = StatisticsConfig::new()
            .with_scene_dim(scene)
            .with_view_dim(view)
            .with_width(width)
            .init(dev);
        let redraw = |l: &mut Linear, rng: &mut Rng| {
            let [d_in, d_out] = l.weight.dims();
            let k = (1.0 / d_in as f64).sqrt();
            l.weight = Param::from_tensor(rng.tensor([d_in, d_out], -k, k, dev));
            l.bias = Some(Param::from_tensor(rng.tensor([d_out], -k, k, dev)));
        };
        for l in &mut net.hidden {
            redraw(l, rng);
        }
        redraw(&mut net.head, rng);
        net
    }

    /// f64 copy of a statistics network, evaluated with plain loops.
    struct Reference {
        layers: Vec<(Vec<f64>, Vec<f64>, usize)>,
    }

    impl Reference {
        fn new(net: &StatisticsNetwork) -> Self {
            let copy = |l: &Linear| {
                let [_, d_out] = l.weight.dims();
                (
                    to_vec(l.weight.val()),
                    to_vec(l.bias.as_ref().unwrap().val()),
                    d_out,
                )
            };
            let mut layers: Vec<_> = net.hidden.iter().map(copy).collect();
            layers.push(copy(&net.head));
            Self { layers }
        }

        fn t(&self, code: &[f64]) -> f64 {
            let last = self.layers.len() - 1;
            let mut h = code.to_vec();
            for (i, (w, b, d_out)) in self.layers.iter().enumerate() {
                let mut out = b.clone();
                for (r, x) in h.iter().enumerate() {
                    for (c, o) in out.iter_mut().enumerate() {
                        *o += x * w[r * d_out + c];
                    }
                }
                if i < last {
                    out.iter_mut()
                        .for_each(|v| *v = if *v > 0.0 { *v } else { v.exp() - 1.0 });
                }
                h = out;
            }
            h[0]
        }

        /// `(mean T_joint, mean e^T_marginal)` of codes `[batch, scene + view]` split at `scene`.
        fn terms(&self, s: &[f64], v: &[f64], dims: (usize, usize), perm: &[usize]) -> (f64, f64) {
            let (ds, dv) = dims;
            let n = perm.len();
            let pair = |i: usize, j: usize| {
                let mut c = s[i * ds..(i + 1) * ds].to_vec();
                c.extend_from_slice(&v[j * dv..(j + 1) * dv]);
                self.t(&c)
            };
            let joint = (0..n).map(|i| pair(i, i)).sum::<f64>() / n as f64;
            let marginal = (0..n).map(|i| pair(i, perm[i]).exp()).sum::<f64>() / n as f64;
            (joint, marginal)
        }
    }

    /// Central differences of `f` with respect to every entry of `x`.
    fn finite_differences(x: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
        let h = 1e-5;
        let mut x = x.to_vec();
        (0..x.len())
            .map(|i| {
                let keep = x[i];
                x[i] = keep + h;
                let up = f(&x);
                x[i] = keep - h;
                let down = f(&x);
                x[i] = keep;
                (up - down) / (2.0 * h)
            })
            .collect()
    }

    fn assert_close(got: &[f64], want: &[f64], what: &str) {
        let scale = want.iter().fold(1e-3f64, |m, v| m.max(v.abs()));
        let err = got
            .iter()
            .zip(want)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(
            err < 2e-3 * scale,
            "{what}: error {err:e} at scale {scale:e}"
        );
    }

    #[test]
    fn gradients_with_respect_to_the_codes_match_finite_differences() {
        let (dev, mut rng) = (device(), Rng::new(21));
        let (ds, dv, n) = (3, 2, 6);
        let net = network(ds, dv, 5, &mut rng, &dev).fork(&dev.clone().autodiff());
        let reference = Reference::new(&net);
        let (s, v) = (
            rng.tensor([n, ds], -1.0, 1.0, &dev),
            rng.tensor([n, dv], -1.0, 1.0, &dev),
        );
        let (s_host, v_host) = (to_vec(s.clone()), to_vec(v.clone()));
        let perm = [3, 0, 4, 5, 1, 2];
        let rate = 0.25;
        let mut average = MineAverage {
            rate,
            value: Some(0.7),
        };
        let grads_of = |out: Tensor<1>, s: &Tensor<2>, v: &Tensor<2>| {
            let g = out.backward();
            (to_vec(s.grad(&g).unwrap()), to_vec(v.grad(&g).unwrap()))
        };
        let (s_ad, v_ad) = (s.autodiff().require_grad(), v.autodiff().require_grad());
        let before = average;
        let m = mine(&net, s_ad.clone(), v_ad.clone(), &perm, &mut average);
        let (js, jm) = reference.terms(&s_host, &v_host, (ds, dv), &perm);
        let dv_value = js - jm.ln();
        assert!((to_vec(m.estimate.clone())[0] - dv_value).abs() < 1e-5);
        assert!((to_vec(m.corrected.clone())[0] - dv_value).abs() < 1e-5);
        let a = 0.75 * 0.7 + 0.25 * jm;
        assert!(
            (average.value.unwrap() - a).abs() < 1e-6,
            "the batch joins the average"
        );

        // The plain estimate: its gradient is the Donsker–Varadhan bound's.
        let (gs, gv) = grads_of(m.estimate, &s_ad, &v_ad);
        let dv_of = |s: &[f64], v: &[f64]| {
            let (j, e) = reference.terms(s, v, (ds, dv), &perm);
            j - e.ln()
        };
        assert!(
            gs.iter().chain(&gv).any(|g| g.abs() > 1e-3),
            "the codes get a gradient"
        );
        assert_close(
            &gs,
            &finite_differences(&s_host, |s| dv_of(s, &v_host)),
            "d/dz_scene",
        );
        assert_close(
            &gv,
            &finite_differences(&v_host, |v| dv_of(&s_host, v)),
            "d/dz_view",
        );

        // The corrected form: `mean e^T` divided by the moving average instead of itself (a
        // fresh forward pass: burn keeps no graph after a backward).
        let m = mine(&net, s_ad.clone(), v_ad.clone(), &perm, &mut before.clone());
        let (gs, gv) = grads_of(m.corrected, &s_ad, &v_ad);
        let surrogate = |s: &[f64], v: &[f64]| {
            let (j, e) = reference.terms(s, v, (ds, dv), &perm);
            j - e / a
        };
        assert_close(
            &gs,
            &finite_differences(&s_host, |s| surrogate(s, &v_host)),
            "corrected d/dz_scene",
        );
        assert_close(
            &gv,
            &finite_differences(&v_host, |v| surrogate(&s_host, v)),
            "corrected d/dz_view",
        );
    }

    #[test]
    fn the_first_batch_gives_the_plain_gradient() {
        let (dev, mut rng) = (device(), Rng::new(22));
        let net = network(2, 2, 4, &mut rng, &dev).fork(&dev.clone().autodiff());
        let s = rng
            .tensor([5, 2], -1.0, 1.0, &dev)
            .autodiff()
            .require_grad();
        let v = rng.tensor([5, 2], -1.0, 1.0, &dev).autodiff();
        // A fresh forward pass per backward: burn keeps no graph after one.
        let run = || {
            let mut average = MineAverage::default();
            mine(&net, s.clone(), v.clone(), &[1, 2, 3, 4, 0], &mut average)
        };
        let plain = to_vec(s.grad(&run().estimate.backward()).unwrap());
        let corrected = to_vec(s.grad(&run().corrected.backward()).unwrap());
        assert_close(&corrected, &plain, "first batch");
    }

    /// `n` pairs of `d`-dimensional standard normal codes whose components are correlated by
    /// `rho`, as `[n, d]` tensors.
    fn correlated(
        n: usize,
        d: usize,
        rho: f64,
        rng: &mut Rng,
        dev: &Device,
    ) -> (Tensor<2>, Tensor<2>) {
        let mut normal = || {
            let (u, w) = (rng.uniform(1e-12, 1.0), rng.uniform(0.0, 1.0));
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * w).cos()
        };
        let (mut s, mut v) = (Vec::with_capacity(n * d), Vec::with_capacity(n * d));
        for _ in 0..n * d {
            let (a, b) = (normal(), normal());
            s.push(a as f32);
            v.push((rho * a + (1.0 - rho * rho).sqrt() * b) as f32);
        }
        let t = |x: Vec<f32>| Tensor::from_data(TensorData::new(x, [n, d]), dev);
        (t(s), t(v))
    }

    /// Trains a statistics network on correlated Gaussian codes and returns its estimate on a
    /// fresh batch.
    fn trained_estimate(rho: f64, seed: u64) -> f64 {
        let (host, mut rng) = (device(), Rng::new(seed));
        let dev = host.clone().autodiff();
        let (d, batch) = (2, 256);
        let mut net = network(d, d, 32, &mut rng, &dev);
        let mut optim = AdamConfig::new().init();
        let mut average = MineAverage::default();
        let shuffle = |rng: &mut Rng, n: usize| {
            let mut p: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                p.swap(i, rng.uniform(0.0, (i + 1) as f64) as usize);
            }
            p
        };
        for _ in 0..400 {
            let (s, v) = correlated(batch, d, rho, &mut rng, &dev);
            let perm = shuffle(&mut rng, batch);
            let m = mine(&net, s, v, &perm, &mut average);
            let grads = GradientsParams::from_grads(m.corrected.neg().backward(), &net);
            net = optim.step(1e-3, net, grads);
        }
        let n = 8192;
        let (s, v) = correlated(n, d, rho, &mut rng, &host);
        let perm = shuffle(&mut rng, n);
        let net = net.valid();
        to_vec(mine(&net, s, v, &perm, &mut MineAverage::default()).estimate)[0]
    }

    #[test]
    fn estimate_approaches_the_mutual_information_of_correlated_gaussians() {
        // I = −d/2 · ln(1 − ρ²) for d pairs of components correlated by ρ.
        let exact = -(1.0f64 - 0.8 * 0.8).ln();
        let got = trained_estimate(0.8, 31);
        assert!(
            (got - exact).abs() < 0.15,
            "estimate {got:.3}, exact {exact:.3} nats"
        );
        let independent = trained_estimate(0.0, 32);
        assert!(
            independent.abs() < 0.05,
            "independent codes: {independent:.3} nats"
        );
    }
}
