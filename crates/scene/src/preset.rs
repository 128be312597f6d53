//! The scene families of the paper, by name.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A scene family: what `pix2scene generate --preset NAME` draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// One box at a random position on the floor, axis-aligned (paper Table 1, "rand Tr.").
    Boxes,
    /// One box at a random position and random rotation about the vertical (Table 1,
    /// "rand Rot.").
    BoxesRot,
    /// One basic shape (box, sphere, cone, cylinder, torus, Utah teapot) at a random pose.
    Shapes,
    /// Two to five mixed objects (basic shapes and ShapeNet-like objects).
    MultiShapes,
    /// One object of the six ShapeNet-like categories (or of the user's OBJ categories), with
    /// its class label.
    ShapenetLike,
    /// 3D-IQTT mental-rotation questions: a reference and three answers.
    Iqtt,
}

impl Preset {
    /// Every preset, in documentation order.
    pub const ALL: [Preset; 6] = [
        Preset::Boxes,
        Preset::BoxesRot,
        Preset::Shapes,
        Preset::MultiShapes,
        Preset::ShapenetLike,
        Preset::Iqtt,
    ];

    /// The name used on the command line and in manifests.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Boxes => "boxes",
            Preset::BoxesRot => "boxes-rot",
            Preset::Shapes => "shapes",
            Preset::MultiShapes => "multi-shapes",
            Preset::ShapenetLike => "shapenet-like",
            Preset::Iqtt => "iqtt",
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Preset {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| Error::InvalidValue {
                field: "preset".into(),
                message: format!(
                    "unknown preset {s:?}; expected one of {}",
                    Preset::ALL.map(Preset::name).join(", ")
                ),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_rejected() {
        for p in Preset::ALL {
            assert_eq!(p.name().parse::<Preset>().unwrap(), p);
        }
        let err = "box".parse::<Preset>().unwrap_err().to_string();
        assert_eq!(
            err,
            "preset: unknown preset \"box\"; expected one of boxes, boxes-rot, shapes, \
             multi-shapes, shapenet-like, iqtt"
        );
    }
}
