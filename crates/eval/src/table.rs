//! A plain-text table of an [`EvalResult`], with the paper's figures beside ours.

use std::fmt::Write;

use crate::metrics::Metric;
use crate::paper::paper_row;
use crate::summary::EvalResult;

/// Renders `result` as a table: one row per view and metric, `mean ± std` over images, and
/// with `paper` a column of the paper's figure where Table 1 or 2 has one for the result's
/// preset (the column is left out when it has none).
pub fn table(result: &EvalResult, paper: bool) -> String {
    let extrapolation = result.views.iter().any(|(angle, _)| *angle != 0.0);
    let preset = result.preset.as_deref().unwrap_or("");
    let rows_of = |angle: f32| {
        paper
            .then(|| paper_row(preset, angle, extrapolation))
            .flatten()
    };
    let tables: Vec<&str> = {
        let mut t: Vec<&str> = result
            .views
            .iter()
            .filter_map(|(a, _)| rows_of(*a).map(|r| r.table))
            .collect();
        t.dedup();
        t
    };
    let mut out = String::new();
    let _ = write!(out, "{} image(s)", result.images);
    if let Some(p) = &result.preset {
        let _ = write!(out, ", preset {p}");
    }
    if let Some(c) = &result.checkpoint {
        let _ = write!(out, ", checkpoint {c}");
    }
    let _ = writeln!(out, "; mean ± std over images");
    let mut lines = vec![vec![
        "view".to_string(),
        "metric".to_string(),
        "ours".to_string(),
    ]];
    if !tables.is_empty() {
        lines[0].push(format!("paper ({})", tables.join(", ")));
    }
    for (angle, summary) in &result.views {
        let row = rows_of(*angle);
        for (k, m) in Metric::ALL.into_iter().enumerate() {
            let s = summary.get(m);
            let mut line = vec![
                if k == 0 {
                    format!("{angle}°")
                } else {
                    String::new()
                },
                m.label().to_string(),
                format!("{} ± {}", significant(s.mean), significant(s.std)),
            ];
            if !tables.is_empty() {
                line.push(
                    row.and_then(|r| r.get(m))
                        .map_or_else(|| "–".to_string(), |v| format!("{v:.3}")),
                );
            }
            lines.push(line);
        }
    }
    let widths: Vec<usize> = (0..lines[0].len())
        .map(|c| {
            lines
                .iter()
                .map(|l| l[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}

/// `v` with three significant digits in fixed notation (`0.0712`, `0.000420`, `6.12`).
fn significant(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let decimals = (2 - v.abs().log10().floor() as i32).clamp(0, 9) as usize;
    format!("{v:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::ImageMetrics;
    use crate::summary::ViewSummary;

    fn result(preset: &str, views: &[f32]) -> EvalResult {
        let image = ImageMetrics {
            hausdorff_f: 0.0712,
            hausdorff_f_mean: 0.0101,
            hausdorff_r: 0.0834,
            hausdorff_r_mean: 0.0123,
            mse_depth: 0.00042,
            side: 0.0456,
            mad_deg: 6.1234,
        };
        EvalResult {
            views: views
                .iter()
                .map(|a| (*a, ViewSummary::of(&[image]).unwrap()))
                .collect(),
            images: 1,
            checkpoint: Some("best".into()),
            preset: Some(preset.into()),
        }
    }

    #[test]
    fn table_lists_every_view_and_metric_with_the_papers_figures() {
        let text = table(&result("shapes", &[0.0, 80.0]), true);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "1 image(s), preset shapes, checkpoint best; mean ± std over images"
        );
        assert!(lines[1].starts_with("view") && lines[1].ends_with("paper (Table 2)"));
        assert_eq!(lines.len(), 2 + 2 * Metric::ALL.len());
        // The cells of a view's metric row (columns are separated by at least two spaces).
        let row = |view: &str, label: &str| -> Vec<String> {
            let i = lines.iter().position(|l| l.starts_with(view)).unwrap();
            let line = lines[i..].iter().find(|l| l.contains(label)).unwrap();
            line.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect()
        };
        assert_eq!(
            row("0°", "Hausdorff-F (max)"),
            ["0°", "Hausdorff-F (max)", "0.0712 ± 0", "0.110"]
        );
        assert_eq!(
            row("80°", "MSE-depth"),
            ["MSE-depth", "0.000420 ± 0", "0.027"]
        );
        assert_eq!(row("80°", "MAD (deg)"), ["MAD (deg)", "6.12 ± 0", "–"]);
        // A single 0° view of a Table 1 preset takes Table 1; no paper column without a row.
        assert!(table(&result("shapes", &[0.0]), true).contains("paper (Table 1)"));
        assert!(!table(&result("shapenet-like", &[0.0]), true).contains("paper"));
        assert!(!table(&result("shapes", &[0.0]), false).contains("paper"));
    }
}
