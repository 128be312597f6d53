//! `pix2scene iqtt human` and `pix2scene iqtt score`: the 3D-IQTT human test page and the
//! scoring of its answers files.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pix2scene_scene::{HumanTest, score_answers, write_human_page};
use pix2scene_train::iqtt::questions::TEST_BASE;

/// Flags of `pix2scene iqtt human`.
#[derive(Debug, Args)]
pub struct HumanArgs {
    /// Directory of the page (index.html; open it in any browser, no server needed).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Number of questions.
    #[arg(long, value_name = "N")]
    count: u64,
    /// Seed of the question generator (the test questions of `iqtt.seed = K`).
    #[arg(long, value_name = "K", default_value_t = 0)]
    seed: u64,
    /// Image size, pixels.
    #[arg(long, value_name = "S", default_value_t = 128)]
    size: usize,
    /// Hard questions (mirror image and a same-size foil as distractors).
    #[arg(long)]
    hard: bool,
}

/// Flags of `pix2scene iqtt score`.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// An answers file downloaded from the human test page.
    #[arg(long, value_name = "FILE")]
    answers: PathBuf,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
}

/// Runs `pix2scene iqtt human`.
pub fn human(args: HumanArgs) -> anyhow::Result<()> {
    let test = HumanTest {
        size: args.size,
        seed: args.seed,
        hard: args.hard,
        first: TEST_BASE,
        count: args.count,
    };
    let page = write_human_page(&args.out, &test)
        .with_context(|| format!("writing the human test page into {}", args.out.display()))?;
    println!("{}", page.display());
    Ok(())
}

/// Runs `pix2scene iqtt score`.
pub fn score(args: ScoreArgs) -> anyhow::Result<()> {
    let (sheet, accuracy) = score_answers(&args.answers).context("scoring answers")?;
    let n = sheet.answers.len() as f64;
    let mean_s = sheet.answers.iter().map(|a| a.ms).sum::<f64>() / n / 1000.0;
    if args.json {
        let [lo, hi] = accuracy.interval_95();
        println!(
            "{}",
            serde_json::json!({
                "accuracy": accuracy.fraction(), "interval": [lo, hi],
                "correct": accuracy.correct, "total": accuracy.total,
                "mean_seconds": mean_s, "page_score": sheet.score,
            })
        );
    } else {
        println!("{accuracy}; {mean_s:.1} s per question on average");
    }
    Ok(())
}
