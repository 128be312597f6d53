//! The three ways a 3D-IQTT question is answered and trained for (paper Table 3's columns).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// A method of paper Table 3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// Pix2Scene: ALI + Eq. 4 on unlabelled images, MINE, Eq. 5 on labelled questions; answers
    /// by the nearest scene code.
    Pix2Scene,
    /// The CNN baseline: cross-entropy on labelled questions.
    Cnn,
    /// The Siamese CNN baseline: contrastive loss (Eq. 7), answers by the nearest feature.
    Siamese,
}

impl Method {
    /// Every method, in table order.
    pub const ALL: [Method; 3] = [Method::Pix2Scene, Method::Cnn, Method::Siamese];

    /// The name used in presets, run directories, tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Method::Pix2Scene => "pix2scene",
            Method::Cnn => "cnn",
            Method::Siamese => "siamese",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Method::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "iqtt.method",
                    s,
                    "unknown method (expected pix2scene, cnn or siamese)",
                )
            })
    }
}
