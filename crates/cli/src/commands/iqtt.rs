//! `pix2scene iqtt`: the 3D-IQ test task — train and evaluate Pix2Scene and the baselines
//! (`run`, `train`, `eval`), and the human test page (`human`, `score`).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use pix2scene_scene::Accuracy;
use pix2scene_train::iqtt::figures::{write_answered_questions, write_reconstructions};
use pix2scene_train::iqtt::pix2scene::Pix2SceneLearner;
use pix2scene_train::iqtt::questions::QuestionSet;
use pix2scene_train::iqtt::{
    IqttOptions, Method, Split, evaluate_ensemble, evaluate_run, load_checkpoint, run_all,
    tested_checkpoint, train_iqtt,
};

use super::iqtt_human::{HumanArgs, ScoreArgs};
use crate::progress::TrainBar;
use crate::signals;

/// Flags of `pix2scene iqtt`.
#[derive(Debug, Args)]
pub struct IqttArgs {
    /// The 3D-IQTT command.
    #[command(subcommand)]
    command: IqttCommand,
}

/// The 3D-IQTT subcommands.
#[derive(Debug, Subcommand)]
enum IqttCommand {
    /// Train Pix2Scene at every label count of the preset and both baselines, then print paper
    /// Table 3 beside ours (resumes an interrupted RUN).
    Run(RunArgs),
    /// Train one method at one label count (resumable like `train`), then test it.
    Train(TrainArgs),
    /// Evaluate a run's tested weights (its best validation checkpoint) on its test questions (and write figures).
    Eval(EvalArgs),
    /// Write the human test: a static HTML page of questions, one at a time.
    Human(HumanArgs),
    /// Score an answers file downloaded from the human test page.
    Score(ScoreArgs),
}

/// Flags of `pix2scene iqtt run`.
#[derive(Debug, Args)]
struct RunArgs {
    /// 3D-IQTT preset (configs/iqtt-*.toml).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Directory of the runs (`<method>-<labels>/`) and the table (table.md, table.json).
    #[arg(long, value_name = "RUN")]
    out: PathBuf,
    /// Override a preset key, e.g. `--set iqtt.test=1000` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Print the table as one JSON object on the last line.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Flags of `pix2scene iqtt train`.
#[derive(Debug, Args)]
struct TrainArgs {
    /// 3D-IQTT preset; not needed with --resume.
    #[arg(long, value_name = "FILE", required_unless_present = "resume")]
    config: Option<PathBuf>,
    /// Run directory.
    #[arg(long, value_name = "RUN")]
    out: PathBuf,
    /// pix2scene (default), cnn or siamese.
    #[arg(long, value_name = "NAME")]
    method: Option<String>,
    /// Labelled training questions.
    #[arg(long, value_name = "N")]
    labels: Option<u64>,
    /// Override a preset key (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Continue the run in --out from its newest checkpoint.
    #[arg(long)]
    resume: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Flags of `pix2scene iqtt eval`.
#[derive(Debug, Args)]
struct EvalArgs {
    /// Run directory of `iqtt train` (or one of `iqtt run`'s). Repeat it to answer with several
    /// Pix2Scene runs together (each run's distances over their sum, added; docs/iqtt.md).
    #[arg(long, value_name = "RUN", required = true)]
    run: Vec<PathBuf>,
    /// Override a preset key, e.g. `--set iqtt.test=20000` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Write reconstructions.png and questions.png/.md of the first test questions here
    /// (Pix2Scene runs).
    #[arg(long, value_name = "DIR")]
    figures: Option<PathBuf>,
    /// Test questions in the figures.
    #[arg(long, value_name = "N", default_value_t = 6)]
    figure_questions: u64,
    /// Which held-out questions to answer: `test` (the reported figures) or `validation` (the
    /// questions every choice is made on).
    #[arg(long, value_enum, default_value_t = SplitArg::Test)]
    split: SplitArg,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
}

/// `--split` of `pix2scene iqtt eval`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum SplitArg {
    /// The validation questions.
    Validation,
    /// The test questions.
    Test,
}

impl From<SplitArg> for Split {
    fn from(split: SplitArg) -> Self {
        match split {
            SplitArg::Validation => Split::Validation,
            SplitArg::Test => Split::Test,
        }
    }
}

/// Runs `pix2scene iqtt`.
pub fn run(args: IqttArgs, threads: Option<usize>) -> anyhow::Result<()> {
    let threads: Vec<String> = threads
        .map(|n| format!("run.threads={n}"))
        .into_iter()
        .collect();
    match args.command {
        IqttCommand::Run(a) => {
            let mut bar = TrainBar::new(a.quiet);
            let overrides = [a.set, threads].concat();
            let table = run_all(
                &a.config,
                &a.out,
                &overrides,
                signals::stop_flag()?,
                &mut bar,
            )
            .inspect_err(|_| bar.abandon())
            .with_context(|| {
                format!(
                    "3D-IQTT runs of {} into {}",
                    a.config.display(),
                    a.out.display()
                )
            })?;
            print!("{}", table.to_markdown());
            if a.json {
                println!("{}", table.to_json());
            }
            Ok(())
        }
        IqttCommand::Train(a) => {
            let mut overrides = a.set;
            if let Some(method) = a.method {
                overrides.push(format!("iqtt.method=\"{method}\""));
            }
            if let Some(labels) = a.labels {
                overrides.push(format!("iqtt.labels=[{labels}]"));
            }
            overrides.extend(threads);
            let options = IqttOptions {
                config: a.config,
                out: a.out.clone(),
                overrides,
                resume: a.resume,
                stop: signals::stop_flag()?,
            };
            let mut bar = TrainBar::new(a.quiet);
            let s = train_iqtt(&options, &mut bar)
                .inspect_err(|_| bar.abandon())
                .with_context(|| format!("3D-IQTT run {}", a.out.display()))?;
            match s.test {
                Some(test) => println!(
                    "done: {} with {} labels, {} steps in {:.0} s; at its best validation \
                     (step {}): validation {}; test {test}",
                    s.method, s.labels, s.steps, s.train_seconds, s.best_step, s.validation
                ),
                None => println!(
                    "interrupted, saved at step {}; continue with --resume",
                    s.steps
                ),
            }
            Ok(())
        }
        IqttCommand::Eval(a) => eval(a),
        IqttCommand::Human(a) => super::iqtt_human::human(a),
        IqttCommand::Score(a) => super::iqtt_human::score(a),
    }
}

/// `pix2scene iqtt eval`.
fn eval(a: EvalArgs) -> anyhow::Result<()> {
    let split = Split::from(a.split);
    if a.run.len() > 1 {
        return eval_ensemble(&a, split);
    }
    let run = &a.run[0];
    let what = || format!("evaluating 3D-IQTT run {}", run.display());
    let (preset, score) = evaluate_run(run, &a.set, split).with_context(what)?;
    let split = split.name();
    if a.json {
        let head = serde_json::json!({
            "method": preset.iqtt.method, "labels": preset.iqtt.labels[0], "split": split,
        });
        println!("{}", with_accuracy(head, &score));
    } else {
        println!(
            "{} with {:?} labels: {split} {score}",
            preset.iqtt.method, preset.iqtt.labels
        );
    }
    let Some(dir) = a.figures else {
        return Ok(());
    };
    anyhow::ensure!(
        preset.method() == Method::Pix2Scene,
        "--figures: {} is a {} run; figures show Pix2Scene's codes",
        run.display(),
        preset.iqtt.method
    );
    let device = pix2scene_train::TrainDevice::parse(&preset.run.device)?.autodiff_device();
    let questions =
        QuestionSet::open(&preset.iqtt, preset.model.resolution, 0).with_context(what)?;
    let mut learner = Pix2SceneLearner::new(&preset, questions.clone(), &device);
    let tested = tested_checkpoint(run).with_context(what)?;
    load_checkpoint(&mut learner, &tested).with_context(what)?;
    let ids: Vec<u64> = questions.test().take(a.figure_questions as usize).collect();
    let drawn = questions.draw(&ids);
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    write_reconstructions(&learner, &drawn, &dir.join("reconstructions.png")).with_context(what)?;
    write_answered_questions(
        &learner,
        &drawn,
        &dir.join("questions.png"),
        &dir.join("questions.md"),
    )
    .with_context(what)?;
    println!("figures in {}", dir.display());
    Ok(())
}

/// `pix2scene iqtt eval` with several runs: the ensemble's accuracy.
fn eval_ensemble(a: &EvalArgs, split: Split) -> anyhow::Result<()> {
    anyhow::ensure!(
        a.figures.is_none(),
        "--figures: show one run's codes, not an ensemble's (give one --run)"
    );
    let names: Vec<String> = a.run.iter().map(|r| r.display().to_string()).collect();
    let (presets, score) = evaluate_ensemble(&a.run, &a.set, split)
        .with_context(|| format!("evaluating 3D-IQTT runs {} together", names.join(", ")))?;
    let labels: Vec<u64> = presets.iter().map(|p| p.iqtt.labels[0]).collect();
    let split = split.name();
    if a.json {
        let head = serde_json::json!({
            "method": "pix2scene", "runs": names, "labels": labels, "split": split,
        });
        println!("{}", with_accuracy(head, &score));
    } else {
        println!(
            "pix2scene, {} runs together with {labels:?} labels: {split} {score}",
            a.run.len()
        );
    }
    Ok(())
}

/// The JSON object `head` with an accuracy's `accuracy`, `interval` (95 %), `correct` and
/// `total` added.
fn with_accuracy(mut head: serde_json::Value, score: &Accuracy) -> serde_json::Value {
    let [lo, hi] = score.interval_95();
    head["accuracy"] = serde_json::json!(score.fraction());
    head["interval"] = serde_json::json!([lo, hi]);
    head["correct"] = serde_json::json!(score.correct);
    head["total"] = serde_json::json!(score.total);
    head
}
