//! `pix2scene iqtt run` without the binary's progress bar and Ctrl-C handling:
//! `cargo run --release -p pix2scene-train --example iqtt_run -- CONFIG OUT [KEY=VALUE…]`
//! trains every method at every label count of the preset and prints paper Table 3 beside ours
//! (Markdown, then one JSON line).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

fn main() -> Result<(), pix2scene_train::Error> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: iqtt_run CONFIG OUT [KEY=VALUE…]";
    let config = PathBuf::from(args.next().expect(usage));
    let out = PathBuf::from(args.next().expect(usage));
    let overrides: Vec<String> = args.collect();
    let stop = Arc::new(AtomicBool::new(false));
    let table = pix2scene_train::iqtt::run_all(&config, &out, &overrides, stop, &mut ())?;
    print!("{}", table.to_markdown());
    println!("{}", table.to_json());
    Ok(())
}
