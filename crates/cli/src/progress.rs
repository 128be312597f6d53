//! Progress bars that stay quiet when output is not a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

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
