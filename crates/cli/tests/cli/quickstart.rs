//! The main job (`scripts/quickstart.sh`) in miniature (`SMOKE=1`): every stage runs with this
//! binary, in order, and leaves what the README tells a newcomer to open.

use std::path::Path;
use std::process::Command;

use super::{assert_succeeded, scratch};

#[test]
fn the_main_job_runs_end_to_end_in_miniature() {
    let out = scratch("quickstart");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/quickstart.sh");
    let run = Command::new("bash")
        .arg(&script)
        .env("SMOKE", "1")
        .env("OUT", &*out)
        .env("PIX2SCENE", env!("CARGO_BIN_EXE_pix2scene"))
        .output()
        .expect("bash runs");
    assert_succeeded(&run);
    let stdout = String::from_utf8_lossy(&run.stdout);
    // The stages in order, the summary table with the baselines, the report's path last.
    let stages: Vec<usize> = [
        "1/5 generate",
        "2/5 train",
        "3/5 eval",
        "4/5 reconstruct",
        "5/5 report",
    ]
    .iter()
    .map(|s| {
        stdout
            .find(s)
            .unwrap_or_else(|| panic!("no stage {s}:\n{stdout}"))
    })
    .collect();
    assert!(stages.is_sorted(), "{stdout}");
    for row in [
        "this run (2 steps)",
        "shipped models/boxes",
        "the same, post-processed (own row)",
        "per-pixel mean depth (image-blind)",
        "global mean depth (image-blind)",
    ] {
        assert!(stdout.contains(row), "no row {row}:\n{stdout}");
    }
    let report = out.join("report.html");
    assert!(
        stdout
            .trim_end()
            .ends_with(&format!("Open the report: {}", report.display())),
        "{stdout}"
    );
    for file in [
        "test/previews/grid.png",
        "run/metrics.jsonl",
        "reconstruct/0/depth.png",
        "reconstruct/0/normal.png",
        "reconstruct/0/surfels.ply",
        "reconstruct/0/turntable.gif",
        "reconstruct/0/post-depth.png",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        html.contains("<th>models/boxes</th>"),
        "no shipped-model column"
    );
    assert!(
        html.contains("<th>baseline per-pixel-mean over 8 scenes</th>"),
        "no baseline column"
    );
}
