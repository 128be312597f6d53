//! `pix2scene iqtt`: a whole tiny run (Pix2Scene and both baselines into one table), a single
//! resumable run, bad input, and the human test page clicked through in headless Chromium.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use pix2scene_scene::HumanTest;
use serde_json::{Value, json};

use crate::{assert_fails_with, assert_succeeded, pix2scene, scratch};

fn tiny() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../configs/iqtt-tiny.toml")
        .to_string_lossy()
        .into_owned()
}

/// `iqtt train` of the tiny preset into `out` with `labels` labelled questions and `--set`
/// overrides, without a progress bar.
fn tiny_train(out: &Path, labels: &str, sets: &[&str]) -> std::process::Output {
    let config = tiny();
    let mut args = vec![
        "iqtt",
        "train",
        "--config",
        &config,
        "--out",
        out.to_str().unwrap(),
        "--labels",
        labels,
        "--quiet",
    ];
    for set in sets {
        args.extend(["--set", set]);
    }
    pix2scene(&args)
}

/// `iqtt run` trains every method at every label count of the tiny preset and prints one
/// table whose JSON has an accuracy per method and label count over the stated test
/// questions, with the shortcuts on the same questions; run again, it reads the finished runs
/// back and prints the same table.
#[test]
fn iqtt_run_writes_table_3_of_the_tiny_preset() {
    let dir = scratch("iqtt-run");
    let out = dir.join("run");
    let args = [
        "iqtt",
        "run",
        "--config",
        &tiny(),
        "--out",
        out.to_str().unwrap(),
        "--json",
        "--quiet",
    ];
    let first = pix2scene(&args);
    assert_succeeded(&first);
    let stdout = String::from_utf8_lossy(&first.stdout).into_owned();
    let table: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    for method in ["pix2scene", "cnn", "siamese"] {
        for labels in ["0", "20"] {
            let cell = &table[method][labels];
            assert_eq!(cell["total"], 30, "{method} {labels}: {table}");
            let acc = cell["accuracy"].as_f64().unwrap();
            let correct = cell["correct"].as_u64().unwrap() as f64;
            assert_eq!(acc, correct / 30.0);
            let [lo, hi] = [0, 1].map(|i| cell["interval"][i].as_f64().unwrap());
            assert!(lo <= acc && acc <= hi, "{cell}");
        }
    }
    assert_eq!(table["shortcuts"]["area-nearest"]["total"], 30);
    assert_eq!(table["paper"]["pix2scene"]["1000"], 0.5567);
    assert!(stdout.contains("| 20 | "), "{stdout}");
    assert!(out.join("table.md").is_file() && out.join("cnn-20/result.json").is_file());
    let again = pix2scene(&args);
    assert_succeeded(&again);
    assert_eq!(String::from_utf8_lossy(&again.stdout), stdout);
}

/// A single run stopped half-way and resumed logs what a straight run logs and reaches the
/// same test accuracy; `iqtt eval` of the finished run agrees on the test and validation
/// questions and writes the figures.
#[test]
fn iqtt_train_resumes_exactly_and_eval_agrees() {
    let dir = scratch("iqtt-train");
    let config = tiny();
    let run = |out: &Path, steps: &str, resume: bool| {
        let mut args = vec![
            "iqtt",
            "train",
            "--out",
            out.to_str().unwrap(),
            "--labels",
            "20",
        ];
        args.extend(["--set", steps, "--quiet"]);
        if resume {
            args.push("--resume");
        } else {
            args.extend(["--config", &config]);
        }
        pix2scene(&args)
    };
    let (straight, split) = (dir.join("straight"), dir.join("split"));
    assert_succeeded(&run(&straight, "run.steps=4", false));
    assert_succeeded(&run(&split, "run.steps=2", false));
    assert_succeeded(&run(&split, "run.steps=4", true));
    let metrics = |d: &Path| -> Vec<Value> {
        std::fs::read_to_string(d.join("metrics.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                let o = v.as_object_mut().unwrap();
                o.remove("iters_per_s");
                o.remove("elapsed_s");
                v
            })
            .collect()
    };
    assert_eq!(metrics(&split), metrics(&straight));
    let result = |d: &Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(d.join("result.json")).unwrap()).unwrap()
    };
    assert_eq!(result(&split)["test"], result(&straight)["test"]);
    let figures = dir.join("figures");
    let eval = |extra: &[&str]| -> Value {
        let mut args = vec![
            "iqtt",
            "eval",
            "--run",
            straight.to_str().unwrap(),
            "--json",
        ];
        args.extend(extra);
        let out = pix2scene(&args);
        assert_succeeded(&out);
        let stdout = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(stdout.lines().next().unwrap()).unwrap()
    };
    let test = eval(&[
        "--figures",
        figures.to_str().unwrap(),
        "--figure-questions",
        "2",
    ]);
    assert_eq!(test["split"], "test");
    assert_eq!(test["correct"], result(&straight)["test"]["correct"]);
    let validation = eval(&["--split", "validation"]);
    assert_eq!(validation["split"], "validation");
    assert_eq!(
        validation["correct"],
        result(&straight)["validation"]["correct"]
    );
    for f in ["reconstructions.png", "questions.png", "questions.md"] {
        assert!(figures.join(f).is_file(), "{f}");
    }
}

/// `iqtt eval` with several runs answers with them together: a run twice answers as the run
/// alone, and runs whose held-out questions differ are refused on one line.
#[test]
fn iqtt_eval_answers_with_several_runs_together() {
    let dir = scratch("iqtt-ensemble");
    let train = |name: &str, seed: &str| -> String {
        let out = dir.join(name);
        assert_succeeded(&tiny_train(&out, "20", &["run.steps=2", seed]));
        out.to_string_lossy().into_owned()
    };
    let (a, b) = (train("a", "iqtt.seed=0"), train("b", "iqtt.seed=1"));
    let eval = |runs: &[&str]| {
        let mut args = vec!["iqtt", "eval", "--json"];
        for r in runs {
            args.extend(["--run", r]);
        }
        pix2scene(&args)
    };
    let json = |out: std::process::Output| -> Value {
        assert_succeeded(&out);
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap()
    };
    let alone = json(eval(&[&a]));
    let twice = json(eval(&[&a, &a]));
    assert_eq!(twice["correct"], alone["correct"], "{twice}");
    assert_eq!(twice["total"], 30);
    assert_eq!(twice["runs"], json!([a, a]));
    assert_fails_with(
        &eval(&[&a, &b]),
        &format!(
            "error: evaluating 3D-IQTT runs {a}, {b} together: {b}: its held-out questions are \
             not those of {a} (iqtt.seed, iqtt.hard, iqtt.dir, iqtt.validation and iqtt.test \
             must agree)"
        ),
    );
}

/// Bad input to `iqtt` fails on one line naming what is wrong.
#[test]
fn iqtt_bad_input_is_refused_on_one_line() {
    let dir = scratch("iqtt-bad");
    let boxes = dir.join("boxes");
    assert_succeeded(&pix2scene(&[
        "generate",
        "--preset",
        "boxes",
        "--count",
        "4",
        "--size",
        "16",
        "--seed",
        "1",
        "--out",
        boxes.to_str().unwrap(),
    ]));
    let out = dir.join("run");
    let train = |labels: &str, set: &str| tiny_train(&out, labels, &[set]);
    assert_fails_with(
        &train("0", &format!("iqtt.dir={}", boxes.display())),
        &format!(
            "iqtt.dir = {}: a boxes dataset, not 3D-IQTT questions (write them with generate \
             --preset iqtt)",
            boxes.display()
        ),
    );
    assert_fails_with(
        &train("500", "iqtt.seed=3"),
        "iqtt.labels = 500: above the 200 training questions (iqtt.train_questions)",
    );
    assert!(!out.exists(), "refused input leaves no run directory");
    let answers = dir.join("answers.json");
    std::fs::write(
        &answers,
        "{\"format\": \"pix2scene-iqtt-answers\", \"version\": 1,",
    )
    .unwrap();
    assert_fails_with(
        &pix2scene(&["iqtt", "score", "--answers", answers.to_str().unwrap()]),
        &format!(
            "error: scoring answers: {}:1: not a 3D-IQTT answers file: EOF while parsing a \
             value at line 1 column 50",
            answers.display()
        ),
    );
}

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
    session: Option<String>,
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(session) = &self.session {
            let _ = ureq::delete(&format!("{}/session/{session}", self.url)).call();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    /// Starts chromedriver and waits until it answers.
    ///
    /// # Panics
    /// When chromedriver or chromium is not installed, saying which packages to install.
    fn start() -> Self {
        for tool in ["chromium", "chromedriver"] {
            let found = Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .is_ok_and(|o| o.status.success());
            assert!(
                found,
                "{tool} not found: the human test page is tested in headless Chromium; install \
                 it with `apt-get install -y chromium chromium-driver` (.ci/run does)"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            session: None,
        };
        for _ in 0..100 {
            if ureq::get(&format!("{}/status", driver.url)).call().is_ok() {
                return driver;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("chromedriver did not answer on {}", driver.url);
    }

    /// A WebDriver command: `body` POSTed (GET without one) to `path`, the reply's `value`.
    fn send(&self, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.url);
        let reply = match body {
            Some(b) => ureq::post(&url)
                .header("Content-Type", "application/json")
                .send(b.to_string()),
            None => ureq::get(&url).call(),
        };
        let text = reply
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .body_mut()
            .read_to_string()
            .unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        v["value"].clone()
    }
}

/// The human test page, clicked through in headless Chromium: each question shows four
/// images, the final score equals the number of clicks on the correct answers (computed here
/// from the regenerated questions), and the answers file the page offers scores the same with
/// `iqtt score` and records a time for each answer.
#[test]
fn human_page_counts_the_answers_given_in_a_browser() {
    let dir = scratch("iqtt-human");
    let page_dir = dir.join("page");
    let n = 5u64;
    let made = pix2scene(&[
        "iqtt",
        "human",
        "--out",
        page_dir.to_str().unwrap(),
        "--count",
        "5",
        "--seed",
        "7",
        "--size",
        "32",
    ]);
    assert_succeeded(&made);
    let test = HumanTest {
        size: 32,
        seed: 7,
        hard: false,
        first: pix2scene_train::iqtt::questions::TEST_BASE,
        count: n,
    };
    let generator = test.generator().unwrap();
    let mut driver = Driver::start();
    let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]}}}});
    let session = driver.send("/session", Some(caps))["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    driver.session = Some(session.clone());
    let s = |path: &str| format!("/session/{session}{path}");
    let page = format!("file://{}", page_dir.join("index.html").display());
    driver.send(&s("/url"), Some(json!({ "url": page })));
    let mut correct = 0;
    for i in 0..n {
        let shown = driver.send(
            &s("/execute/sync"),
            Some(json!({
            "script": "return [document.getElementById('progress').textContent, \
                       document.querySelectorAll('#question img[src^=\"data:image/png\"]').length]",
            "args": []})),
        );
        assert_eq!(shown, json!([format!("Question {} of {n}", i + 1), 4]));
        let choice = (i % 3) as u8;
        correct += u64::from(generator.question(test.first + i).answer == choice);
        let element = driver.send(
            &s("/element"),
            Some(json!({
            "using": "css selector", "value": format!("#answer-{choice}")})),
        );
        let id = element
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        driver.send(&s(&format!("/element/{id}/click")), Some(json!({})));
    }
    let score = driver.send(
        &s("/execute/sync"),
        Some(json!({
        "script": "return document.getElementById('score').textContent", "args": []})),
    );
    let percent = format!("{:.1}", 100.0 * correct as f64 / n as f64);
    assert_eq!(
        score,
        json!(format!(
            "You answered {correct} of {n} correctly ({percent} %)."
        ))
    );
    let sheet = driver.send(
        &s("/execute/sync"),
        Some(json!({
        "script": "return JSON.stringify(window.answerSheet)", "args": []})),
    );
    let answers = dir.join("answers.json");
    std::fs::write(&answers, sheet.as_str().unwrap()).unwrap();
    let scored = pix2scene(&[
        "iqtt",
        "score",
        "--answers",
        answers.to_str().unwrap(),
        "--json",
    ]);
    assert_succeeded(&scored);
    let got: Value = serde_json::from_str(String::from_utf8_lossy(&scored.stdout).trim()).unwrap();
    assert_eq!(got["correct"], correct);
    assert_eq!(got["total"], n);
    assert_eq!(got["page_score"], json!({"correct": correct, "total": n}));
    let sheet: Value = serde_json::from_str(sheet.as_str().unwrap()).unwrap();
    for a in sheet["answers"].as_array().unwrap() {
        assert!(a["ms"].as_f64().unwrap() >= 0.0, "{a}");
    }
}
