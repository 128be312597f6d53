//! Test-only helpers: a seeded generator, tensor ↔ `Vec<f64>` conversion, and a plain-Rust f64
//! reference of the critic used as an independent check of the burn implementation.

use burn::tensor::{Device, Tensor, TensorData};

use crate::critic::Critic;

/// The CPU device used by the tests.
pub(crate) fn device() -> Device {
    Device::flex()
}

/// SplitMix64: small, seeded, independent of burn's global generator (tests run in parallel).
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)`.
    pub(crate) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        lo + (hi - lo) * unit
    }

    /// A tensor of uniform values in `[lo, hi)`.
    pub(crate) fn tensor<const D: usize>(
        &mut self,
        shape: [usize; D],
        lo: f64,
        hi: f64,
        device: &Device,
    ) -> Tensor<D> {
        let n = shape.iter().product();
        let values: Vec<f32> = (0..n).map(|_| self.uniform(lo, hi) as f32).collect();
        Tensor::from_data(TensorData::new(values, shape), device)
    }
}

/// The tensor's values, row-major, as f64.
pub(crate) fn to_vec<const D: usize>(tensor: Tensor<D>) -> Vec<f64> {
    tensor.into_data().iter::<f64>().collect()
}

/// Largest absolute element-wise difference.
pub(crate) fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// One convolution of the reference critic: weight `[out, in, k, k]` row-major, bias `[out]`.
#[derive(Clone)]
pub(crate) struct RefConv {
    pub(crate) weight: Vec<f64>,
    pub(crate) bias: Vec<f64>,
    pub(crate) c_out: usize,
    pub(crate) c_in: usize,
    pub(crate) k: usize,
}

/// f64 copy of a [`Critic`], evaluated with naive loops; shares no code with the burn path.
#[derive(Clone)]
pub(crate) struct RefCritic {
    pub(crate) convs: Vec<RefConv>,
    pub(crate) head: RefConv,
}

fn ref_conv(weight: Tensor<4>, bias: Option<Tensor<1>>) -> RefConv {
    let [c_out, c_in, k, _] = weight.dims();
    RefConv {
        weight: to_vec(weight),
        bias: bias.map_or_else(|| vec![0.0; c_out], to_vec),
        c_out,
        c_in,
        k,
    }
}

/// k×k convolution of one `[c_in, n, n]` map with stride `s` and zero padding `p`.
fn conv(layer: &RefConv, x: &[f64], n: usize, stride: usize, pad: usize) -> (Vec<f64>, usize) {
    let k = layer.k;
    let m = (n + 2 * pad - k) / stride + 1;
    let mut out = vec![0.0; layer.c_out * m * m];
    for o in 0..layer.c_out {
        for i in 0..m {
            for j in 0..m {
                let mut acc = layer.bias[o];
                for c in 0..layer.c_in {
                    for ki in 0..k {
                        for kj in 0..k {
                            let (y, x_) = (
                                (i * stride + ki) as isize - pad as isize,
                                (j * stride + kj) as isize - pad as isize,
                            );
                            if y < 0 || x_ < 0 || y >= n as isize || x_ >= n as isize {
                                continue;
                            }
                            let w = layer.weight[((o * layer.c_in + c) * k + ki) * k + kj];
                            acc += w * x[(c * n + y as usize) * n + x_ as usize];
                        }
                    }
                }
                out[(o * m + i) * m + j] = acc;
            }
        }
    }
    (out, m)
}

impl RefCritic {
    /// Copies the critic's current parameters.
    pub(crate) fn from_critic(critic: &Critic) -> Self {
        Self {
            convs: critic
                .convs
                .iter()
                .map(|c| ref_conv(c.weight.val(), c.bias.as_ref().map(|b| b.val())))
                .collect(),
            head: ref_conv(
                critic.head.weight.val(),
                critic.head.bias.as_ref().map(|b| b.val()),
            ),
        }
    }

    /// Critic value of one sample: `x` is `[3, n, n]`, `z` is `[z_dim]`, `camera` is `[3]`.
    pub(crate) fn forward(&self, x: &[f64], n: usize, z: &[f64], camera: &[f64]) -> f64 {
        let mut h: Vec<f64> = x.to_vec();
        for c in camera {
            h.extend(std::iter::repeat_n(*c, n * n));
        }
        let leaky = |a: Vec<f64>| -> Vec<f64> {
            a.into_iter()
                .map(|v| if v > 0.0 { v } else { 0.2 * v })
                .collect()
        };
        let mut size = n;
        for layer in &self.convs {
            let (a, m) = conv(layer, &h, size, 2, 1);
            h = leaky(a);
            size = m;
        }
        for v in z {
            h.extend(std::iter::repeat_n(*v, size * size));
        }
        conv(&self.head, &h, size, 1, 0).0[0]
    }

    /// `(∂D/∂x, ∂D/∂z)` of one sample by f64 central differences of [`RefCritic::forward`].
    pub(crate) fn input_gradient_fd(
        &self,
        x: &[f64],
        n: usize,
        z: &[f64],
        camera: &[f64],
    ) -> (Vec<f64>, Vec<f64>) {
        let h = 1e-6;
        let mut x = x.to_vec();
        let mut z = z.to_vec();
        let mut gx = vec![0.0; x.len()];
        for i in 0..x.len() {
            let keep = x[i];
            x[i] = keep + h;
            let up = self.forward(&x, n, &z, camera);
            x[i] = keep - h;
            let down = self.forward(&x, n, &z, camera);
            x[i] = keep;
            gx[i] = (up - down) / (2.0 * h);
        }
        let mut gz = vec![0.0; z.len()];
        for i in 0..z.len() {
            let keep = z[i];
            z[i] = keep + h;
            let up = self.forward(&x, n, &z, camera);
            z[i] = keep - h;
            let down = self.forward(&x, n, &z, camera);
            z[i] = keep;
            gz[i] = (up - down) / (2.0 * h);
        }
        (gx, gz)
    }

    /// The gradient penalty of a batch at the interpolates, with the input gradient taken by
    /// finite differences. `x_*` are `[batch, 3, n, n]`, `z_*` are `[batch, z_dim]`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn gradient_penalty_fd(
        &self,
        x_real: &[f64],
        x_fake: &[f64],
        z_real: &[f64],
        z_fake: &[f64],
        camera: &[f64],
        alpha: &[f64],
        n: usize,
    ) -> f64 {
        let batch = alpha.len();
        let (xs, zs) = (x_real.len() / batch, z_real.len() / batch);
        let mut total = 0.0;
        for b in 0..batch {
            let a = alpha[b];
            let mix = |r: &[f64], f: &[f64]| -> Vec<f64> {
                r.iter()
                    .zip(f)
                    .map(|(r, f)| a * r + (1.0 - a) * f)
                    .collect()
            };
            let x = mix(&x_real[b * xs..(b + 1) * xs], &x_fake[b * xs..(b + 1) * xs]);
            let z = mix(&z_real[b * zs..(b + 1) * zs], &z_fake[b * zs..(b + 1) * zs]);
            let (gx, gz) = self.input_gradient_fd(&x, n, &z, &camera[b * 3..b * 3 + 3]);
            let sq: f64 = gx.iter().chain(&gz).map(|g| g * g).sum();
            total += ((sq + 1e-12).sqrt() - 1.0).powi(2);
        }
        total / batch as f64
    }
}
