//! `pix2scene`: generate scene datasets, train Pix2Scene, evaluate and use trained models, benchmark.

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
