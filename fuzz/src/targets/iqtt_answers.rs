//! The answers files a person's browser writes from the 3D-IQTT human test page, which
//! `pix2scene iqtt score --answers FILE` reads.

use std::path::Path;

use pix2scene_scene::{
    ANSWERS_FORMAT, ANSWERS_VERSION, Accuracy, AnswerSheet, HumanAnswer, HumanTest,
    score_answer_text,
};

use super::JSON_TOKENS;
use crate::target::{AllocBound, Target};

/// `score_answer_text`: the sheet parsed, checked and scored against regenerated answers.
pub const IQTT_ANSWERS: Target = Target {
    name: "iqtt-answers",
    what: "iqtt score's answers files",
    seeds,
    dictionary: JSON_TOKENS,
    run,
    // serde's answers (24 bytes each for at least 22 bytes of JSON), the set of questions seen,
    // and the question generator: its pool of 1,000 polycube shapes and their meshes (26 MB
    // for paper-like questions).
    bound: AllocBound {
        per_input_byte: 32,
        fixed: 64 << 20,
    },
};

fn run(data: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(data).map_err(|e| format!("not UTF-8: {e}"))?;
    let (sheet, accuracy) =
        score_answer_text(text, Path::new("answers.json")).map_err(|e| e.to_string())?;
    let page = sheet.test.questions();
    if accuracy.total != sheet.answers.len() as u64 || accuracy.correct > accuracy.total {
        panic!("scored {accuracy:?} for {} answers", sheet.answers.len());
    }
    if let Some(a) = sheet
        .answers
        .iter()
        .find(|a| !page.contains(&a.question) || a.choice > 2)
    {
        panic!("accepted answer {a:?} for the page's questions {page:?}");
    }
    Ok(())
}

fn seeds() -> Vec<Vec<u8>> {
    let sheet = |hard: bool, size: usize| AnswerSheet {
        format: ANSWERS_FORMAT.into(),
        version: ANSWERS_VERSION,
        test: HumanTest {
            size,
            seed: 4,
            hard,
            first: 100,
            count: 5,
        },
        answers: (0..5)
            .map(|i| HumanAnswer {
                question: 100 + i,
                choice: (i % 3) as u8,
                ms: 1200.0 + 17.0 * i as f64,
            })
            .collect(),
        score: Accuracy::new(2, 5),
    };
    vec![
        serde_json::to_vec_pretty(&sheet(false, 32)).expect("an answers file serializes"),
        serde_json::to_vec(&sheet(true, 64)).expect("an answers file serializes"),
    ]
}
