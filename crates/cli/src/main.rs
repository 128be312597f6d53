//! `pix2scene`: generate scene datasets, shade depth maps, train Pix2Scene, benchmark.

mod commands;
mod progress;
mod signals;

use std::process::ExitCode;

use clap::Parser;

use crate::commands::Cli;

fn main() -> ExitCode {
    pix2scene_render::heap::retain_freed_memory();
    match commands::run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
