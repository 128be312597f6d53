//! Camera conditioning: the networks take the camera position (paper section 3.3.3), or no
//! camera at all when the view is unknown (3D-IQTT, paper Appendix D: "we do not condition the
//! networks with the camera pose").

use burn::tensor::{Tensor, assert_shape};

/// Checks that a network with `camera_dim` camera inputs got a camera exactly when it is
/// camera-conditioned (`camera_dim > 0`), `[batch, camera_dim]`.
///
/// # Panics
/// With a camera given to a network without camera conditioning, missing for a conditioned
/// one, or of the wrong shape; the message names the `network`.
pub(crate) fn check_camera(
    network: &str,
    camera_dim: usize,
    camera: Option<&Tensor<2>>,
    batch: usize,
) {
    match (camera_dim, camera) {
        (0, None) => {}
        (0, Some(_)) => panic!("{network} has camera_dim = 0: pass no camera"),
        (d, None) => panic!("{network} has camera_dim = {d}: pass the camera positions"),
        (_, Some(camera)) => assert_shape!(camera, [batch, camera_dim]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::device;

    #[test]
    #[should_panic(expected = "encoder has camera_dim = 3: pass the camera positions")]
    fn a_conditioned_network_needs_a_camera() {
        check_camera("encoder", 3, None, 1);
    }

    #[test]
    #[should_panic(expected = "critic has camera_dim = 0: pass no camera")]
    fn a_camera_free_network_takes_none() {
        let camera = Tensor::<2>::zeros([1, 3], &device());
        check_camera("critic", 0, Some(&camera), 1);
    }
}
