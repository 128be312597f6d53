//! The MINE statistics network `T(z_scene, z_view)` (paper Appendix D, Table 7).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor, activation, assert_shape};

use crate::error::Error;

/// Configuration for a [`StatisticsNetwork`]; build it with [`StatisticsConfig::init`].
#[derive(Config, Debug)]
pub struct StatisticsConfig {
    /// Length of the scene part of the code (the paper: the first 118 of 128 dimensions).
    #[config(default = 118)]
    pub scene_dim: usize,
    /// Length of the view part of the code (the paper: the last 10 dimensions).
    #[config(default = 10)]
    pub view_dim: usize,
    /// Width of the first hidden layer; the second has twice as many (Table 7: 256, then 512).
    #[config(default = 256)]
    pub width: usize,
}

/// Scores a (scene code, view code) pair: high for pairs drawn together from the encoder, low
/// for pairs drawn from the product of the marginals once trained by [`crate::mine`].
///
/// Layers (paper Table 7): the concatenated code `[z_scene, z_view]` (128 values), then
/// `width`, `2·width` and 1 units, with ELU (α = 1) after the two hidden layers and no
/// normalization. Table 7 writes them as 1×1 convolutions of a 1×1 map, which are these linear
/// layers; its stride 2 on the last one has no effect on a 1×1 map.
#[derive(Module, Debug)]
pub struct StatisticsNetwork {
    /// The two hidden layers, from the code side.
    pub hidden: Vec<Linear>,
    /// The output layer, to one value.
    pub head: Linear,
    /// Length of the scene part of the code.
    pub scene_dim: usize,
    /// Length of the view part of the code.
    pub view_dim: usize,
}

impl StatisticsConfig {
    /// Checks the configuration.
    ///
    /// # Errors
    /// [`Error::Config`] naming the field that is 0.
    pub fn validate(&self) -> crate::Result<()> {
        let fields = [
            ("scene_dim", self.scene_dim),
            ("view_dim", self.view_dim),
            ("width", self.width),
        ];
        match fields.into_iter().find(|(_, v)| *v == 0) {
            Some((field, value)) => Err(Error::config(
                "statistics network",
                field,
                value,
                "at least 1",
            )),
            None => Ok(()),
        }
    }

    /// Builds the network with burn's default (Kaiming-uniform) initial weights.
    ///
    /// # Panics
    /// If [`StatisticsConfig::validate`] fails; the message names the field.
    pub fn init(&self, device: &Device) -> StatisticsNetwork {
        if let Err(err) = self.validate() {
            panic!("{err}");
        }
        let widths = [self.scene_dim + self.view_dim, self.width, 2 * self.width];
        StatisticsNetwork {
            hidden: widths
                .windows(2)
                .map(|w| LinearConfig::new(w[0], w[1]).init(device))
                .collect(),
            head: LinearConfig::new(widths[2], 1).init(device),
            scene_dim: self.scene_dim,
            view_dim: self.view_dim,
        }
    }
}

impl StatisticsNetwork {
    /// The statistic `T` of each pair.
    ///
    /// # Shapes
    /// - `z_scene`: `[batch, scene_dim]`
    /// - `z_view`: `[batch, view_dim]`
    /// - returns `[batch]`
    ///
    /// # Panics
    /// If the shapes do not match the above.
    pub fn forward(&self, z_scene: Tensor<2>, z_view: Tensor<2>) -> Tensor<1> {
        let [batch, _] = z_scene.dims();
        assert_shape!(z_scene, [_, self.scene_dim]);
        assert_shape!(z_view, [batch, self.view_dim]);
        let mut h = Tensor::cat(vec![z_scene, z_view], 1);
        for layer in &self.hidden {
            h = elu(layer.forward(h));
        }
        self.head.forward(h).reshape([batch])
    }
}

/// ELU with α = 1: `x` where `x > 0`, else `eˣ − 1`. Written as `relu(x) + e^min(x, 0) − 1`
/// so that no branch evaluates `eˣ` of a large `x` (burn's `elu` masks `eˣ − 1`, whose gradient
/// `0·eˣ` is NaN where `eˣ` overflows); at 0 the gradient is 1 (burn's ReLU passes none there,
/// its clamp passes the exponential's).
fn elu(x: Tensor<2>) -> Tensor<2> {
    activation::relu(x.clone()) + x.clamp_max(0.0).exp().sub_scalar(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{Rng, device, to_vec};
    use burn::tensor::TensorData;

    #[test]
    fn paper_sizes_and_parameter_count() {
        let net = StatisticsConfig::new().init(&device());
        // 128·256 + 256 + 256·512 + 512 + 512 + 1.
        assert_eq!(net.num_params(), 33_024 + 131_584 + 513);
        let mut rng = Rng::new(3);
        let t = net.forward(
            rng.tensor([5, 118], -1.0, 1.0, &device()),
            rng.tensor([5, 10], -1.0, 1.0, &device()),
        );
        assert_eq!(t.dims(), [5]);
    }

    #[test]
    fn elu_matches_its_definition_and_keeps_large_gradients_finite() {
        let x = [-3.0f32, -0.5, 0.0, 0.7, 200.0];
        let t = Tensor::<2>::from_data(TensorData::new(x.to_vec(), [1, 5]), &device())
            .autodiff()
            .require_grad();
        let y = elu(t.clone());
        let want: Vec<f64> = x
            .iter()
            .map(|&v| {
                if v > 0.0 {
                    f64::from(v)
                } else {
                    f64::from(v).exp() - 1.0
                }
            })
            .collect();
        for (a, b) in to_vec(y.clone()).iter().zip(&want) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
        let grad = to_vec(t.grad(&y.sum().backward()).unwrap());
        let slope = [(-3f64).exp(), (-0.5f64).exp(), 1.0, 1.0, 1.0];
        for (g, s) in grad.iter().zip(slope) {
            assert!((g - s).abs() < 1e-6, "{grad:?}");
        }
    }

    #[test]
    fn zero_width_is_rejected_by_name() {
        let err = StatisticsConfig::new()
            .with_view_dim(0)
            .validate()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "statistics network config: field `view_dim` is 0, expected at least 1"
        );
    }
}
