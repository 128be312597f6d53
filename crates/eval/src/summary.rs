//! Per-image metrics → per view: mean and standard deviation over images of every metric, and
//! the evaluation result whose JSON `pix2scene eval --json` prints (docs/eval.md).

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::metrics::{ImageMetrics, Metric};

/// Mean and standard deviation of one metric over images.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stat {
    /// Mean over images.
    pub mean: f64,
    /// Population standard deviation over images (divides by the number of images, as
    /// NumPy's `std`); 0 for one image.
    pub std: f64,
}

impl Stat {
    /// Mean and standard deviation of `values`, summed in order in `f64`.
    ///
    /// # Panics
    /// If `values` is empty.
    pub fn of(values: impl ExactSizeIterator<Item = f64> + Clone) -> Self {
        let n = values.len();
        assert!(n > 0, "statistics of no value");
        let mean = values.clone().sum::<f64>() / n as f64;
        let var = values.map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
        Self {
            mean,
            std: var.sqrt(),
        }
    }
}

/// Every metric's [`Stat`] over the images of one view.
///
/// Serializes as a flat map: each metric's key holds its mean and `key_std` its standard
/// deviation, `{"hausdorff_f": …, "hausdorff_f_std": …, "hausdorff_f_mean": …,
/// "hausdorff_f_mean_std": …, …, "mad_deg": …, "mad_deg_std": …}`.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewSummary {
    stats: [Stat; Metric::ALL.len()],
}

impl ViewSummary {
    /// The statistics of the images of one view, in the order given (so the result does not
    /// depend on how the images were scheduled).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] if `images` is empty.
    pub fn of(images: &[ImageMetrics]) -> Result<Self> {
        if images.is_empty() {
            return Err(Error::InvalidValue {
                field: "images".into(),
                message: "a view summary needs at least one image".into(),
            });
        }
        Ok(Self {
            stats: Metric::ALL.map(|m| Stat::of(images.iter().map(|i| i.get(m)))),
        })
    }

    /// The statistics of `metric`.
    pub fn get(&self, metric: Metric) -> Stat {
        self.stats[metric as usize]
    }
}

impl Serialize for ViewSummary {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2 * Metric::ALL.len()))?;
        for m in Metric::ALL {
            let s = self.get(m);
            map.serialize_entry(m.key(), &s.mean)?;
            map.serialize_entry(&format!("{}_std", m.key()), &s.std)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ViewSummary {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let map = BTreeMap::<String, f64>::deserialize(deserializer)?;
        let get = |key: &str| {
            map.get(key)
                .copied()
                .ok_or_else(|| D::Error::custom(format!("missing key {key:?}")))
        };
        let mut stats = [Stat {
            mean: 0.0,
            std: 0.0,
        }; Metric::ALL.len()];
        for m in Metric::ALL {
            stats[m as usize] = Stat {
                mean: get(m.key())?,
                std: get(&format!("{}_std", m.key()))?,
            };
        }
        Ok(Self { stats })
    }
}

/// The result of scoring a set of images at one or more views: what `pix2scene eval --json`
/// prints (docs/eval.md).
///
/// ```json
/// {"views": {"0": {"hausdorff_f": 0.071, "hausdorff_f_std": 0.012, …}, "35": {…}},
///  "images": 1000, "checkpoint": "best", "preset": "shapes"}
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalResult {
    /// Per view (rotation of the camera about the look-at point, degrees), in the order
    /// evaluated; keys are the angles as written (`"0"`, `"35"`, `"12.5"`).
    #[serde(
        serialize_with = "serialize_views",
        deserialize_with = "deserialize_views"
    )]
    pub views: Vec<(f32, ViewSummary)>,
    /// Number of images (scenes) scored at each view.
    pub images: usize,
    /// Which checkpoint of the run was scored (`"best"`, `"last"`, `"step-N"`), if any.
    pub checkpoint: Option<String>,
    /// Dataset preset the images come from, if known (selects the paper's row in tables).
    pub preset: Option<String>,
}

/// The JSON key of a view: the angle in degrees as Rust writes an `f32` (`35`, `12.5`).
pub fn view_key(angle_deg: f32) -> String {
    format!("{angle_deg}")
}

fn serialize_views<S: Serializer>(
    views: &[(f32, ViewSummary)],
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(views.len()))?;
    for (angle, summary) in views {
        map.serialize_entry(&view_key(*angle), summary)?;
    }
    map.end()
}

fn deserialize_views<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Vec<(f32, ViewSummary)>, D::Error> {
    let map = BTreeMap::<String, ViewSummary>::deserialize(deserializer)?;
    let mut views = map
        .into_iter()
        .map(|(k, v)| {
            k.parse::<f32>()
                .map(|a| (a, v))
                .map_err(|_| D::Error::custom(format!("view key {k:?} is not an angle")))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    views.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(views)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(k: f64) -> ImageMetrics {
        ImageMetrics {
            hausdorff_f: 0.1 * k,
            hausdorff_f_mean: 0.01 * k,
            hausdorff_r: 0.2 * k,
            hausdorff_r_mean: 0.02 * k,
            mse_depth: 0.001 * k,
            side: 0.05 * k,
            mad_deg: 3.0 * k,
        }
    }

    #[test]
    fn stats_are_the_mean_and_population_std_of_every_metric() {
        let images = [image(1.0), image(2.0), image(6.0)];
        let s = ViewSummary::of(&images).unwrap();
        // Values 1, 2, 6 times each metric's unit: mean 3, population variance 14/3.
        let std = (14.0f64 / 3.0).sqrt();
        for (m, unit) in Metric::ALL
            .iter()
            .zip([0.1, 0.01, 0.2, 0.02, 0.001, 0.05, 3.0])
        {
            let got = s.get(*m);
            assert!((got.mean - 3.0 * unit).abs() < 1e-12, "{m:?}: {got:?}");
            assert!((got.std - std * unit).abs() < 1e-12, "{m:?}: {got:?}");
        }
        let one = ViewSummary::of(&[image(2.0)]).unwrap();
        assert_eq!(
            one.get(Metric::MadDeg),
            Stat {
                mean: 6.0,
                std: 0.0
            }
        );
        assert_eq!(
            ViewSummary::of(&[]).unwrap_err().to_string(),
            "images: a view summary needs at least one image"
        );
    }

    #[test]
    fn json_has_the_contract_shape_and_round_trips() {
        let result = EvalResult {
            views: vec![
                (0.0, ViewSummary::of(&[image(1.0), image(3.0)]).unwrap()),
                (35.0, ViewSummary::of(&[image(2.0), image(2.0)]).unwrap()),
                (100.0, ViewSummary::of(&[image(4.0), image(4.0)]).unwrap()),
            ],
            images: 2,
            checkpoint: Some("best".into()),
            preset: Some("shapes".into()),
        };
        let text = serde_json::to_string(&result).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["images"], 2);
        assert_eq!(v["checkpoint"], "best");
        let views = v["views"].as_object().unwrap();
        assert_eq!(views.len(), 3);
        let zero = views["0"].as_object().unwrap();
        assert_eq!(zero.len(), 14);
        assert!((zero["hausdorff_f"].as_f64().unwrap() - 0.2).abs() < 1e-12);
        assert!((zero["hausdorff_f_std"].as_f64().unwrap() - 0.1).abs() < 1e-12);
        assert!((zero["hausdorff_f_mean"].as_f64().unwrap() - 0.02).abs() < 1e-12);
        assert!((zero["mad_deg"].as_f64().unwrap() - 6.0).abs() < 1e-12);
        assert_eq!(views["35"]["mse_depth_std"], 0.0);
        // The views keep their evaluated order in the text, and parse back in angle order.
        let (i0, i35, i100) = (
            text.find("\"0\"").unwrap(),
            text.find("\"35\"").unwrap(),
            text.find("\"100\"").unwrap(),
        );
        assert!(i0 < i35 && i35 < i100);
        let back: EvalResult = serde_json::from_str(&text).unwrap();
        assert_eq!(back, result);
    }
}
