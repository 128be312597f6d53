//! Line plots as inline SVG: training curves in the HTML report, with no script and no
//! external file.

use std::fmt::Write;

use super::escape;

/// Plot width, pixels.
const WIDTH: f64 = 560.0;
/// Plot height, pixels.
const HEIGHT: f64 = 300.0;
/// Margins (left, right, top, bottom), pixels.
const MARGIN: [f64; 4] = [64.0, 150.0, 28.0, 40.0];
/// Series of at most this many points get a marker at each point.
const MARKED_POINTS: usize = 40;
/// Line colours, in series order (colour-blind safe, Okabe–Ito).
const COLOURS: [&str; 7] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000",
];

/// One line of a plot: a name and its `(x, y)` points (non-finite points are skipped).
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// Points, in drawing order.
    pub points: Vec<(f64, f64)>,
    /// Drawn dashed (reference levels such as baselines).
    pub dashed: bool,
}

/// An SVG line plot of `series` with axes, ticks, a legend and `title`; the y axis is
/// logarithmic with `log_y` (non-positive values are then skipped). An empty plot says so.
pub fn line_plot(title: &str, x_label: &str, series: &[Series], log_y: bool) -> String {
    let ty = |y: f64| if log_y { y.log10() } else { y };
    let valid = |&(x, y): &(f64, f64)| x.is_finite() && y.is_finite() && (!log_y || y > 0.0);
    let points: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied().filter(valid))
        .map(|(x, y)| (x, ty(y)))
        .collect();
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"sans-serif\" font-size=\"11\">\
         <text x=\"{}\" y=\"16\" font-size=\"13\" font-weight=\"bold\">{}</text>",
        MARGIN[0],
        escape(title)
    );
    if points.is_empty() {
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\">no data</text></svg>",
            WIDTH / 2.0 - 20.0,
            HEIGHT / 2.0
        );
        return svg;
    }
    let span = |v: &mut dyn Iterator<Item = f64>| {
        let (lo, hi) = v.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
        if hi - lo > 1e-12 {
            (lo, hi)
        } else {
            (lo - 0.5, hi + 0.5)
        }
    };
    let (x0, x1) = span(&mut points.iter().map(|p| p.0));
    let (y0, y1) = span(&mut points.iter().map(|p| p.1));
    let (pw, ph) = (
        WIDTH - MARGIN[0] - MARGIN[1],
        HEIGHT - MARGIN[2] - MARGIN[3],
    );
    let sx = |x: f64| MARGIN[0] + (x - x0) / (x1 - x0) * pw;
    let sy = |y: f64| MARGIN[2] + (1.0 - (y - y0) / (y1 - y0)) * ph;
    let _ = write!(
        svg,
        "<rect x=\"{}\" y=\"{}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#888\"/>",
        MARGIN[0], MARGIN[2]
    );
    for k in 0..=4 {
        let t = f64::from(k) / 4.0;
        let (xv, yv) = (x0 + t * (x1 - x0), y0 + t * (y1 - y0));
        let label_y = if log_y { 10f64.powf(yv) } else { yv };
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/>",
            sx(xv),
            HEIGHT - MARGIN[3] + 14.0,
            tick(xv),
            MARGIN[0] - 4.0,
            sy(yv) + 4.0,
            tick(label_y),
            MARGIN[0],
            MARGIN[0] + pw,
            sy(yv),
            sy(yv)
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
        MARGIN[0] + pw / 2.0,
        HEIGHT - 6.0,
        escape(x_label)
    );
    for (k, s) in series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let path: Vec<String> = s
            .points
            .iter()
            .copied()
            .filter(valid)
            .map(|(x, y)| format!("{:.1},{:.1}", sx(x), sy(ty(y))))
            .collect();
        let dash = if s.dashed {
            " stroke-dasharray=\"5,4\""
        } else {
            ""
        };
        // Markers where points are few (a single evaluation would show no line).
        if !s.dashed && path.len() <= MARKED_POINTS {
            for p in &path {
                let (x, y) = p.split_once(',').unwrap_or(("0", "0"));
                let _ = write!(
                    svg,
                    "<circle cx=\"{x}\" cy=\"{y}\" r=\"2.5\" fill=\"{colour}\"/>"
                );
            }
        }
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.6\"{dash} \
             points=\"{}\"/><line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" \
             stroke=\"{colour}\" stroke-width=\"2\"{dash}/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            path.join(" "),
            WIDTH - MARGIN[1] + 8.0,
            WIDTH - MARGIN[1] + 26.0,
            MARGIN[2] + 10.0 + 16.0 * k as f64,
            MARGIN[2] + 10.0 + 16.0 * k as f64,
            WIDTH - MARGIN[1] + 30.0,
            MARGIN[2] + 14.0 + 16.0 * k as f64,
            escape(&s.name)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A tick label with three significant digits.
fn tick(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if (1e-3..1e5).contains(&v.abs()) {
        let digits = (2 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
        format!("{v:.digits$}")
    } else {
        format!("{v:.2e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_map_into_the_plot_box_and_skip_invalid_values() {
        let s = Series {
            name: "loss <x>".into(),
            points: vec![(0.0, 1.0), (10.0, 0.01), (20.0, f64::NAN), (30.0, -1.0)],
            dashed: false,
        };
        let svg = line_plot("t", "step", std::slice::from_ref(&s), true);
        // Two valid points on a log axis: the first at the top left, the second bottom right.
        let (l, t) = (MARGIN[0], MARGIN[2]);
        let (r, b) = (WIDTH - MARGIN[1], HEIGHT - MARGIN[3]);
        assert!(
            svg.contains(&format!("points=\"{l:.1},{t:.1} {r:.1},{b:.1}\"")),
            "{svg}"
        );
        assert!(svg.contains("loss &lt;x&gt;"));
        assert!(svg.contains(">1.00<") && svg.contains(">0.0100<"), "{svg}");
        let empty = line_plot("t", "step", &[], false);
        assert!(empty.contains("no data"));
    }
}
