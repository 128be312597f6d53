//! Prints the renderer benchmark as JSON without building the whole CLI:
//! `cargo run --release -p pix2scene-render --example bench_render -- [threads] [size] [batch] [impl]`
//! (`impl`: `auto`, `fused` or `reference`). `pix2scene bench render` runs the same code.

use pix2scene_render::{RenderImpl, bench};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: usize| -> Result<usize, Box<dyn std::error::Error>> {
        Ok(args
            .get(i)
            .map(|s| s.parse())
            .transpose()?
            .unwrap_or(default))
    };
    let implementation = match args.get(3).map(String::as_str) {
        None | Some("auto") => RenderImpl::Auto,
        Some("fused") => RenderImpl::Fused,
        Some("reference") => RenderImpl::Reference,
        Some(other) => return Err(format!("unknown impl {other}").into()),
    };
    let report = bench::run(&bench::BenchConfig {
        threads: arg(0, 1)?,
        size_px: arg(1, 128)?,
        batch: arg(2, 6)?,
        reps: 20,
        implementation,
    })?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
