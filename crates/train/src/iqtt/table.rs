//! Paper Table 3 beside ours: accuracy by method and labelled-set size, with 95 % intervals,
//! chance, the shortcut baselines on the same test questions, the paper's figures and its human
//! score.

use pix2scene_scene::{Accuracy, Shortcut};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::config::IqttPreset;
use super::method::Method;
use super::run::IqttRunSummary;

/// Paper Table 3: label counts and the accuracy of Pix2Scene, the CNN and the Siamese CNN at
/// each (Pix2Scene's ± figures are the paper's own spread, not an interval).
pub const PAPER_TABLE_3: [(u64, [f64; 3]); 4] = [
    (0, [0.4372, 0.3385, 0.3698]),
    (200, [0.4691, 0.3350, 0.3610]),
    (1000, [0.5567, 0.3392, 0.3701]),
    (10_000, [0.5983, 0.3649, 0.3752]),
];

/// Paper Table 3: human accuracy (0-label row, "Human Evaluation").
pub const PAPER_HUMAN: f64 = 0.7329;

/// Chance: one of three answers.
pub const CHANCE: f64 = 1.0 / 3.0;

/// One method at one label count.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TableRow {
    /// `pix2scene`, `cnn` or `siamese`.
    pub method: String,
    /// Labelled training questions.
    pub labels: u64,
    /// Test accuracy.
    pub accuracy: Accuracy,
    /// Validation accuracy.
    pub validation: Accuracy,
    /// Training iterations.
    pub steps: u64,
    /// The iteration whose weights were tested (the best on the validation questions).
    pub best_step: u64,
    /// Seconds of training.
    pub train_seconds: f64,
}

impl TableRow {
    /// The row of a finished run.
    ///
    /// # Panics
    /// If the run has no test accuracy (it was interrupted).
    pub fn from_summary(summary: &IqttRunSummary) -> Self {
        Self {
            method: summary.method.clone(),
            labels: summary.labels,
            accuracy: summary.test.expect("a finished run has a test accuracy"),
            validation: summary.validation,
            steps: summary.steps,
            best_step: summary.best_step,
            train_seconds: summary.train_seconds,
        }
    }
}

/// Table 3 of one preset.
#[derive(Clone, Debug, PartialEq)]
pub struct IqttTable {
    /// The runs.
    pub rows: Vec<TableRow>,
    /// The shortcut baselines on the same test questions, in [`Shortcut::ALL`] order.
    pub shortcuts: [Accuracy; 2],
    /// Image size of the questions, pixels.
    pub resolution: usize,
    /// Whether the questions are the hard ones.
    pub hard: bool,
    /// Test questions.
    pub test_questions: u64,
    /// Training questions.
    pub train_questions: u64,
}

impl IqttTable {
    /// The table of `rows` and `shortcuts` measured with `preset`.
    pub fn new(preset: &IqttPreset, rows: Vec<TableRow>, shortcuts: [Accuracy; 2]) -> Self {
        Self {
            rows,
            shortcuts,
            resolution: preset.model.resolution,
            hard: preset.iqtt.hard,
            test_questions: preset.iqtt.test,
            train_questions: preset.iqtt.train_questions,
        }
    }

    /// The label counts of the rows, in order of first appearance.
    fn label_counts(&self) -> Vec<u64> {
        let mut out: Vec<u64> = Vec::new();
        for row in &self.rows {
            if !out.contains(&row.labels) {
                out.push(row.labels);
            }
        }
        out
    }

    /// The row of `method` at `labels`.
    fn row(&self, method: Method, labels: u64) -> Option<&TableRow> {
        self.rows
            .iter()
            .find(|r| r.method == method.name() && r.labels == labels)
    }

    /// The table as Markdown: one line per label count with ours (accuracy and 95 % Wilson
    /// interval) and the paper's, then chance, the shortcuts and the paper's human score.
    pub fn to_markdown(&self) -> String {
        let questions = if self.hard { "hard" } else { "paper-like" };
        let mut s = format!(
            "3D-IQTT, {questions} questions, {r}²; {test} test questions, {train} training \
             questions; accuracy [95 % Wilson interval]\n\n\
             | labels | Pix2Scene (ours) | CNN (ours) | Siamese (ours) | paper: Pix2Scene | CNN | \
             Siamese |\n|---|---|---|---|---|---|---|\n",
            r = self.resolution,
            test = self.test_questions,
            train = self.train_questions,
        );
        for labels in self.label_counts() {
            let cell = |m: Method| {
                self.row(m, labels).map_or("–".into(), |r| {
                    let [lo, hi] = r.accuracy.interval_95();
                    format!("{:.3} [{lo:.3}, {hi:.3}]", r.accuracy.fraction())
                })
            };
            let paper = PAPER_TABLE_3.iter().find(|(l, _)| *l == labels);
            let paper = |i: usize| paper.map_or("–".into(), |(_, p)| format!("{:.4}", p[i]));
            s += &format!(
                "| {labels} | {} | {} | {} | {} | {} | {} |\n",
                cell(Method::Pix2Scene),
                cell(Method::Cnn),
                cell(Method::Siamese),
                paper(0),
                paper(1),
                paper(2)
            );
        }
        s += &format!("\nchance {CHANCE:.3}");
        for (shortcut, acc) in Shortcut::ALL.iter().zip(&self.shortcuts) {
            let [lo, hi] = acc.interval_95();
            s += &format!(
                "; {} {:.3} [{lo:.3}, {hi:.3}]",
                shortcut.name(),
                acc.fraction()
            );
        }
        s += &format!("; human (paper) {PAPER_HUMAN:.4}\n\ntraining time, seconds:");
        for row in &self.rows {
            s += &format!(
                " {} {}: {:.0} ({} steps, tested at {});",
                row.method, row.labels, row.train_seconds, row.steps, row.best_step
            );
        }
        s.pop();
        s.push('\n');
        s
    }

    /// The table as one JSON object: `{"pix2scene": {"0": {"accuracy", "interval", "correct",
    /// "total", "validation", "steps", "best_step", "train_seconds"}, …}, "cnn": …, "siamese": …, "chance",
    /// "shortcuts": {"area-nearest": …, "pixel-nearest": …}, "paper": …, "human_paper",
    /// "test_questions", "train_questions", "resolution", "hard"}`.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        for method in Method::ALL {
            let mut by_labels = Map::new();
            for row in self.rows.iter().filter(|r| r.method == method.name()) {
                let mut cell = accuracy_json(&row.accuracy);
                cell["validation"] = json!(row.validation.fraction());
                cell["steps"] = json!(row.steps);
                cell["best_step"] = json!(row.best_step);
                cell["train_seconds"] = json!(row.train_seconds);
                by_labels.insert(row.labels.to_string(), cell);
            }
            out.insert(method.name().into(), Value::Object(by_labels));
        }
        let shortcuts: Map<String, Value> = Shortcut::ALL
            .iter()
            .zip(&self.shortcuts)
            .map(|(s, a)| (s.name().to_string(), accuracy_json(a)))
            .collect();
        let mut paper = Map::new();
        for (i, method) in Method::ALL.iter().enumerate() {
            let by_labels: Map<String, Value> = PAPER_TABLE_3
                .iter()
                .map(|(l, p)| (l.to_string(), json!(p[i])))
                .collect();
            paper.insert(method.name().into(), Value::Object(by_labels));
        }
        out.insert("chance".into(), json!(CHANCE));
        out.insert("shortcuts".into(), Value::Object(shortcuts));
        out.insert("paper".into(), Value::Object(paper));
        out.insert("human_paper".into(), json!(PAPER_HUMAN));
        out.insert("test_questions".into(), json!(self.test_questions));
        out.insert("train_questions".into(), json!(self.train_questions));
        out.insert("resolution".into(), json!(self.resolution));
        out.insert("hard".into(), json!(self.hard));
        Value::Object(out)
    }
}

/// `{"accuracy", "interval": [low, high], "correct", "total"}`.
fn accuracy_json(a: &Accuracy) -> Value {
    json!({
        "accuracy": a.fraction(),
        "interval": a.interval_95(),
        "correct": a.correct,
        "total": a.total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(method: Method, labels: u64, correct: u64) -> TableRow {
        TableRow {
            method: method.name().into(),
            labels,
            accuracy: Accuracy::new(correct, 100),
            validation: Accuracy::new(1, 2),
            steps: 10,
            best_step: 8,
            train_seconds: 1.5,
        }
    }

    #[test]
    fn table_shows_ours_beside_the_paper_and_the_shortcuts() {
        let preset = IqttPreset::default();
        let rows = vec![
            row(Method::Pix2Scene, 0, 50),
            row(Method::Cnn, 0, 33),
            row(Method::Siamese, 0, 40),
            row(Method::Pix2Scene, 200, 60),
        ];
        let table = IqttTable::new(
            &preset,
            rows,
            [Accuracy::new(51, 100), Accuracy::new(39, 100)],
        );
        let md = table.to_markdown();
        // 50/100: Wilson [0.404, 0.596].
        assert!(
            md.contains("| 0 | 0.500 [0.404, 0.596] | 0.330 [0.246, 0.427] | 0.400 [0.309, 0.498] | 0.4372 | 0.3385 | 0.3698 |"),
            "{md}"
        );
        assert!(
            md.contains("| 200 | 0.600 [0.502, 0.691] | – | – | 0.4691 | 0.3350 | 0.3610 |"),
            "{md}"
        );
        assert!(
            md.contains("chance 0.333; area-nearest 0.510 [0.413, 0.606]; pixel-nearest 0.390"),
            "{md}"
        );
        let json = table.to_json();
        assert!(
            md.contains("pix2scene 0: 2 (10 steps, tested at 8)"),
            "{md}"
        );
        assert_eq!(json["pix2scene"]["200"]["correct"], 60);
        assert_eq!(json["pix2scene"]["200"]["best_step"], 8);
        assert_eq!(json["cnn"]["0"]["accuracy"], 0.33);
        assert_eq!(json["paper"]["siamese"]["10000"], 0.3752);
        assert_eq!(json["shortcuts"]["area-nearest"]["total"], 100);
        assert_eq!(json["human_paper"], PAPER_HUMAN);
    }
}
