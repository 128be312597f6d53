//! The paper's reconstruction figures (Tables 1 and 2), in one place, keyed by dataset preset.

use crate::metrics::Metric;

/// One column of the paper's Table 1 or 2: Hausdorff-F, Hausdorff-R (both the max, averaged
/// over images) and MSE-depth for one scene family at one view.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PaperRow {
    /// `"Table 1"` (reconstruction) or `"Table 2"` (view extrapolation).
    pub table: &'static str,
    /// The paper's name of the scene family.
    pub scenes: &'static str,
    /// View angle, degrees (0 for Table 1).
    pub view_deg: f32,
    /// Hausdorff-F, scene units.
    pub hausdorff_f: f64,
    /// Hausdorff-R, scene units.
    pub hausdorff_r: f64,
    /// MSE-depth, scene units².
    pub mse_depth: f64,
}

impl PaperRow {
    /// The paper's value of `metric`, where it reports one (Hausdorff-F and -R as the max,
    /// MSE-depth).
    pub fn get(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::HausdorffF => Some(self.hausdorff_f),
            Metric::HausdorffR => Some(self.hausdorff_r),
            Metric::MseDepth => Some(self.mse_depth),
            _ => None,
        }
    }
}

const fn row(
    table: &'static str,
    preset: &'static str,
    scenes: &'static str,
    view_deg: f32,
    [hausdorff_f, hausdorff_r, mse_depth]: [f64; 3],
) -> (&'static str, PaperRow) {
    (
        preset,
        PaperRow {
            table,
            scenes,
            view_deg,
            hausdorff_f,
            hausdorff_r,
            mse_depth,
        },
    )
}

/// Every figure of Tables 1 and 2, keyed by the preset that generates the paper's scenes.
#[rustfmt::skip]
const ROWS: [(&str, PaperRow); 11] = [
    row("Table 1", "boxes", "box scenes, random translation", 0.0, [0.087, 0.093, 0.032]),
    row("Table 1", "boxes-rot", "box scenes, random rotation", 0.0, [0.102, 0.183, 0.022]),
    row("Table 1", "shapes", "shape scenes, random rotation", 0.0, [0.125, 0.191, 0.038]),
    row("Table 2", "shapes", "shape scenes", 0.0, [0.110, 0.156, 0.012]),
    row("Table 2", "shapes", "shape scenes", 35.0, [0.143, 0.191, 0.021]),
    row("Table 2", "shapes", "shape scenes", 55.0, [0.140, 0.189, 0.022]),
    row("Table 2", "shapes", "shape scenes", 80.0, [0.161, 0.202, 0.027]),
    row("Table 2", "multi-shapes", "multiple-shape scenes", 0.0, [0.256, 0.308, 0.070]),
    row("Table 2", "multi-shapes", "multiple-shape scenes", 35.0, [0.301, 0.355, 0.091]),
    row("Table 2", "multi-shapes", "multiple-shape scenes", 55.0, [0.282, 0.329, 0.088]),
    row("Table 2", "multi-shapes", "multiple-shape scenes", 80.0, [0.272, 0.316, 0.083]),
];

/// The paper's figures for `preset` at `view_deg`, or `None` where the paper has none.
///
/// `extrapolation` says whether the evaluation covers views other than 0°: then Table 2 (the
/// view-extrapolation experiment, with its own 0° column) is preferred, else Table 1. Where
/// the preferred table has no such row, the other is used (`multi-shapes` at 0° appears in
/// Table 2 only).
pub fn paper_row(preset: &str, view_deg: f32, extrapolation: bool) -> Option<PaperRow> {
    let (first, second) = if extrapolation {
        ("Table 2", "Table 1")
    } else {
        ("Table 1", "Table 2")
    };
    let find = |table: &str| {
        ROWS.iter()
            .find(|(p, r)| *p == preset && r.table == table && r.view_deg == view_deg)
            .map(|(_, r)| *r)
    };
    find(first).or_else(|| find(second))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_found_by_preset_view_and_table() {
        let t1 = paper_row("shapes", 0.0, false).unwrap();
        assert_eq!((t1.table, t1.hausdorff_f), ("Table 1", 0.125));
        let t2 = paper_row("shapes", 0.0, true).unwrap();
        assert_eq!((t2.table, t2.hausdorff_r), ("Table 2", 0.156));
        assert_eq!(paper_row("shapes", 80.0, true).unwrap().mse_depth, 0.027);
        assert_eq!(
            paper_row("multi-shapes", 0.0, false).unwrap().table,
            "Table 2"
        );
        assert_eq!(paper_row("boxes", 0.0, true).unwrap().table, "Table 1");
        assert!(paper_row("boxes", 35.0, true).is_none());
        assert!(paper_row("shapenet-like", 0.0, false).is_none());
        assert_eq!(t1.get(Metric::Side), None);
    }
}
