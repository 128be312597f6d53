//! The stride-2 stages that the encoder, decoder and critic share.
//!
//! A network for resolution `R = 4·2^L` has `L` stride-2 stages between `R×R` and `4×4`; stage
//! `i` (counted from the image side) has `width·2^i` channels. Paper Appendix A, Tables 4–6, with
//! the base width as a parameter (the paper's 128² model has width 85).

use crate::error::{Error, Result};

/// Smallest supported resolution (one stride-2 stage).
pub(crate) const MIN_RESOLUTION: usize = 8;

/// Expected-value text for the `resolution` field.
const RESOLUTION_EXPECTED: &str = "4·2^L with L ≥ 1 (8, 16, 32, 64, 128, …)";

/// Checks the fields every network config has and returns the number of stages `L`.
///
/// # Errors
/// [`Error::Config`] naming the field when `resolution` is not `4·2^L` with `L ≥ 1`, when
/// `width` or `z_dim` is 0, or when the widest stage (`width·2^(L-1)` channels) overflows.
pub(crate) fn validate(
    config: &'static str,
    resolution: usize,
    width: usize,
    z_dim: usize,
) -> Result<usize> {
    let field_error = |field, value, expected| Error::config(config, field, value, expected);
    if resolution < MIN_RESOLUTION
        || !resolution.is_multiple_of(4)
        || !(resolution / 4).is_power_of_two()
    {
        return Err(field_error("resolution", resolution, RESOLUTION_EXPECTED));
    }
    if width == 0 {
        return Err(field_error("width", width, "at least 1"));
    }
    if z_dim == 0 {
        return Err(field_error("z_dim", z_dim, "at least 1"));
    }
    let stages = (resolution / 4).trailing_zeros() as usize;
    if width.checked_mul(1 << (stages - 1)).is_none() {
        return Err(field_error(
            "width",
            width,
            "small enough that width·2^(L-1) fits in usize",
        ));
    }
    Ok(stages)
}

/// Channel widths of the `stages` stride-2 stages, from the image side: `width·2^i`.
pub(crate) fn stage_widths(width: usize, stages: usize) -> Vec<usize> {
    (0..stages).map(|i| width << i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_follow_resolution() {
        assert_eq!(validate("encoder", 8, 4, 2).unwrap(), 1);
        assert_eq!(validate("encoder", 64, 4, 2).unwrap(), 4);
        assert_eq!(validate("encoder", 128, 85, 128).unwrap(), 5);
        assert_eq!(stage_widths(32, 4), vec![32, 64, 128, 256]);
    }

    #[test]
    fn bad_resolutions_name_the_field() {
        for bad in [0, 4, 12, 48, 100, 7] {
            let err = validate("critic", bad, 4, 2).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "critic config: field `resolution` is {bad}, expected 4·2^L with L ≥ 1 \
                     (8, 16, 32, 64, 128, …)"
                )
            );
        }
    }

    #[test]
    fn zero_width_and_z_dim_name_the_field() {
        let err = validate("decoder", 16, 0, 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "decoder config: field `width` is 0, expected at least 1"
        );
        let err = validate("encoder", 16, 4, 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "encoder config: field `z_dim` is 0, expected at least 1"
        );
    }
}
