//! What a 3D-IQTT question is drawn from: the shape sizes, the pool, the distractor rule.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Options of the 3D-IQTT question generator (the `iqtt` preset).
///
/// Two distractor rules (paper section 4.4 only says "3 other images, one of which is a randomly
/// rotated version of the reference"):
/// - the default draws the two distractors from the whole pool, whatever their number of cubes
///   (optionally one of them the reference's mirror image): the paper-like questions, on which
///   the foreground-area shortcut answers half of them;
/// - [`IqttOptions::hard_distractors`] draws a chiral reference, makes one distractor its
///   mirror image (the classic Shepard–Metzler design) and the other a shape of its number of
///   cubes and closest bounding box, and shows all four views of a question at one cube size,
///   so that the image-only shortcuts (area, size, pixels) sit near chance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IqttOptions {
    /// Fewest unit cubes in a shape.
    pub cubes_min: usize,
    /// Most unit cubes in a shape.
    pub cubes_max: usize,
    /// Number of distinct shapes questions are drawn from.
    pub pool_size: usize,
    /// Make one distractor the reference's mirror image (the Shepard–Metzler variant); implied
    /// by `hard_distractors`.
    pub mirror_distractor: bool,
    /// Hard questions: a chiral reference; as distractors, in random order, its mirror image
    /// and a foil of its number of cubes whose bounding box is the closest to its own among
    /// the pool's shapes; one cube size for the four views (the largest shape of the question
    /// fills `object_radius`). The pool then holds the same number of shapes of every size, at
    /// least [`IqttOptions::HARD_SHAPES_PER_SIZE`] of each. Absent from manifests written
    /// before it existed (read as `false`).
    #[serde(default)]
    pub hard_distractors: bool,
    /// Bounding radius every shape is scaled to, scene units (with `hard_distractors`: the
    /// largest shape of each question).
    pub object_radius: f32,
}

impl Default for IqttOptions {
    fn default() -> Self {
        Self {
            cubes_min: 11,
            cubes_max: 15,
            pool_size: 1000,
            mirror_distractor: false,
            hard_distractors: false,
            object_radius: 0.2,
        }
    }
}

impl IqttOptions {
    /// Fewest distinct shapes of each size the pool of hard questions needs: a chiral reference,
    /// possibly its mirror image, and a foil.
    pub const HARD_SHAPES_PER_SIZE: usize = 3;

    /// The hard questions (`generate --preset iqtt --hard-distractors`): the default sizes and
    /// pool, with [`IqttOptions::hard_distractors`] set.
    pub fn hard() -> Self {
        Self {
            hard_distractors: true,
            ..Self::default()
        }
    }

    /// Number of cube counts shapes are drawn with, `cubes_max − cubes_min + 1`.
    pub fn sizes(&self) -> usize {
        self.cubes_max + 1 - self.cubes_min
    }

    /// Checks every option, naming the offending one.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for cube counts outside `2 <= min <= max <= 40`, a pool of fewer
    /// than 3 shapes, or (with `hard_distractors`) a pool of fewer than
    /// [`IqttOptions::HARD_SHAPES_PER_SIZE`] shapes per size or shapes of fewer than 4 cubes
    /// (snakes of 2 and 3 cubes come in too few shapes).
    pub fn validate(&self) -> Result<()> {
        if !(2 <= self.cubes_min && self.cubes_min <= self.cubes_max && self.cubes_max <= 40) {
            return Err(Error::InvalidValue {
                field: "iqtt.cubes".into(),
                message: format!(
                    "must satisfy 2 <= min <= max <= 40, got {}..={}",
                    self.cubes_min, self.cubes_max
                ),
            });
        }
        if self.pool_size < 3 {
            return Err(Error::InvalidValue {
                field: "iqtt.pool_size".into(),
                message: format!("must be at least 3, got {}", self.pool_size),
            });
        }
        if self.hard_distractors {
            if self.cubes_min < 4 {
                return Err(Error::InvalidValue {
                    field: "iqtt.cubes".into(),
                    message: format!(
                        "hard distractors need shapes of at least 4 cubes, got {}..={}",
                        self.cubes_min, self.cubes_max
                    ),
                });
            }
            let need = Self::HARD_SHAPES_PER_SIZE * self.sizes();
            if self.pool_size < need {
                return Err(Error::InvalidValue {
                    field: "iqtt.pool_size".into(),
                    message: format!(
                        "hard distractors need {} shapes per size, at least {need} for {} \
                         sizes, got {}",
                        Self::HARD_SHAPES_PER_SIZE,
                        self.sizes(),
                        self.pool_size
                    ),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_options_are_rejected_by_name() {
        let bad = |o: IqttOptions| o.validate().unwrap_err().to_string();
        let hard = |pool_size, cubes_min| IqttOptions {
            pool_size,
            cubes_min,
            ..IqttOptions::hard()
        };
        assert_eq!(
            bad(hard(14, 11)),
            "iqtt.pool_size: hard distractors need 3 shapes per size, at least 15 for 5 sizes, \
             got 14"
        );
        assert_eq!(
            bad(hard(1000, 3)),
            "iqtt.cubes: hard distractors need shapes of at least 4 cubes, got 3..=15"
        );
        let plain = |pool_size, cubes_min| IqttOptions {
            pool_size,
            cubes_min,
            ..IqttOptions::default()
        };
        assert_eq!(
            bad(plain(1000, 16)),
            "iqtt.cubes: must satisfy 2 <= min <= max <= 40, got 16..=15"
        );
        // The same small pool is fine for the default questions.
        plain(14, 11).validate().unwrap();
    }

    #[test]
    fn manifests_without_the_hard_flag_still_parse() {
        let json = r#"{"cubes_min": 11, "cubes_max": 15, "pool_size": 1000,
            "mirror_distractor": true, "object_radius": 0.2}"#;
        let o: IqttOptions = serde_json::from_str(json).unwrap();
        assert!(o.mirror_distractor && !o.hard_distractors);
    }
}
