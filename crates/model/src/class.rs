//! Class conditioning (paper section 4.3, "Conditional scene generation"): the one-hot class
//! vectors that a class-conditional decoder and critic take beside `z`.

use burn::tensor::{Device, Tensor, TensorData, assert_shape};

/// One-hot class vectors of `labels`: `[labels.len(), num_classes]`, 1 at each label.
///
/// # Panics
/// If a label is not below `num_classes`.
pub fn one_hot(labels: &[u32], num_classes: usize, device: &Device) -> Tensor<2> {
    let mut values = vec![0.0f32; labels.len() * num_classes];
    for (i, &label) in labels.iter().enumerate() {
        let label = label as usize;
        assert!(
            label < num_classes,
            "class label {label} is not below num_classes = {num_classes}"
        );
        values[i * num_classes + label] = 1.0;
    }
    Tensor::from_data(TensorData::new(values, [labels.len(), num_classes]), device)
}

/// Checks that a network with `num_classes` classes got class vectors exactly when it is
/// class-conditional, `[batch, num_classes]` ones.
///
/// # Panics
/// With `class` given to an unconditional network, missing for a conditional one, or of the
/// wrong shape; the message names the `network`.
pub(crate) fn check_class(
    network: &str,
    num_classes: usize,
    class: Option<&Tensor<2>>,
    batch: usize,
) {
    match (num_classes, class) {
        (0, None) => {}
        (0, Some(_)) => panic!("{network} has num_classes = 0: pass no class vectors"),
        (k, None) => panic!("{network} has num_classes = {k}: pass one-hot class vectors"),
        (_, Some(class)) => assert_shape!(class, [batch, num_classes]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{device, to_vec};

    #[test]
    fn one_hot_puts_a_one_at_each_label() {
        let v = to_vec(one_hot(&[2, 0, 1], 3, &device()));
        assert_eq!(v, [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    #[should_panic(expected = "class label 3 is not below num_classes = 3")]
    fn one_hot_rejects_a_label_out_of_range() {
        let _ = one_hot(&[3], 3, &device());
    }

    #[test]
    #[should_panic(expected = "decoder has num_classes = 2: pass one-hot class vectors")]
    fn a_conditional_network_needs_classes() {
        check_class("decoder", 2, None, 1);
    }

    #[test]
    #[should_panic(expected = "critic has num_classes = 0: pass no class vectors")]
    fn an_unconditional_network_takes_none() {
        let class = Tensor::<2>::zeros([1, 2], &device());
        check_class("critic", 0, Some(&class), 1);
    }
}
