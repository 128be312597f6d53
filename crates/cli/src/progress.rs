//! Progress bars that stay quiet when output is not a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use pix2scene_train::depth_error::DepthError;
use pix2scene_train::{Losses, Progress};

/// A progress bar over `total` items of `unit`, hidden with `quiet` or when stderr is not a
/// terminal.
pub fn bar(total: u64, unit: &str, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    let template = format!(
        "{{spinner}} [{{elapsed_precise}}] {{bar:40}} {{pos}}/{{len}} {unit} \
         ({{per_sec}}, ETA {{eta}}) {{msg}}"
    );
    pb.set_style(
        ProgressStyle::with_template(&template)
            .expect("valid progress template")
            .progress_chars("=> "),
    );
    pb
}

/// The progress bar of `pix2scene train`: iterations, their rate, the latest losses and the
/// latest held-out depth error.
pub struct TrainBar {
    bar: ProgressBar,
    last_depth: Option<DepthError>,
}

impl TrainBar {
    /// A bar hidden with `quiet` or when stderr is not a terminal.
    pub fn new(quiet: bool) -> Self {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let style =
                ProgressStyle::with_template("{bar:30} {pos}/{len} {per_sec} ETA {eta}  {msg}")
                    .expect("valid progress template");
            ProgressBar::no_length().with_style(style)
        };
        Self {
            bar,
            last_depth: None,
        }
    }

    /// Leaves the bar as it is, for a run that failed.
    pub fn abandon(&self) {
        self.bar.abandon();
    }
}

impl Progress for TrainBar {
    fn started(&mut self, step: u64, total: u64) {
        self.bar.set_length(total);
        self.bar.set_position(step);
        self.bar.reset_eta();
    }

    fn step_done(&mut self, step: u64, losses: &Losses) {
        self.bar.set_position(step);
        let depth = self.last_depth.map_or(String::new(), |d| {
            format!(
                "  held-out MSE {:.4} (best scale {:.4}, depth ratio {:.2})",
                d.mse, d.mse_scaled, d.ratio
            )
        });
        self.bar.set_message(format!(
            "recon_x {:.4}  recon_z {:.3}  W {:.3}{depth}",
            losses.recon_x, losses.recon_z, losses.wasserstein
        ));
    }

    fn evaluated(&mut self, _step: u64, depth: &DepthError) {
        self.last_depth = Some(*depth);
    }

    fn warning(&mut self, message: &str) {
        // Above the bar when it is shown; plain stderr otherwise (a hidden bar prints nothing).
        self.bar.suspend(|| eprintln!("warning: {message}"));
    }

    fn finished(&mut self, step: u64, interrupted: bool) {
        if interrupted {
            self.bar
                .abandon_with_message(format!("interrupted at step {step}; checkpoint saved"));
        } else {
            self.bar.finish();
        }
    }
}
