//! The 3D-IQTT human test (paper Table 3's "Human Evaluation"): a static HTML page that shows
//! questions one at a time, records each answer and its time in the browser, shows the score
//! at the end and offers the answers as a JSON file ([`AnswerSheet`]), which [`score_answers`]
//! scores against the questions regenerated from the sheet's generator settings.

use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::accuracy::Accuracy;
use super::options::IqttOptions;
use crate::atomic_file::write_atomic;
use crate::error::{Error, Result, one_line};
use crate::generator::{Generator, GeneratorConfig};
use crate::preset::Preset;
use crate::preview::RgbImage;

/// The `format` of an answers file.
pub const ANSWERS_FORMAT: &str = "pix2scene-iqtt-answers";

/// The version of the answers file layout.
pub const ANSWERS_VERSION: u32 = 1;

/// The page's script: shows the questions of `TEST` one at a time, records answers and times,
/// then the score and the download link. Kept beside this file so that it reads as JavaScript.
const SCRIPT: &str = include_str!("human.js");

/// The page's style sheet.
const STYLE: &str = include_str!("human.css");

/// The largest image side of a human test page (and so of the questions `score_answers`
/// regenerates), pixels.
pub const MAX_HUMAN_SIZE: usize = 512;

/// Which questions a page shows: those of the `iqtt` generator with these settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HumanTest {
    /// Image size, pixels.
    pub size: usize,
    /// Generator seed.
    pub seed: u64,
    /// Hard questions (`generate --hard-distractors`).
    pub hard: bool,
    /// Index of the first question.
    pub first: u64,
    /// Number of questions.
    pub count: u64,
}

impl HumanTest {
    /// The generator indices of the page's questions, `first .. first + count` (ending at
    /// `u64::MAX` for a count that would pass it).
    pub fn questions(&self) -> Range<u64> {
        self.first..self.first.saturating_add(self.count)
    }

    /// The question generator of these settings.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a size above [`MAX_HUMAN_SIZE`] or one the generator
    /// refuses.
    pub fn generator(&self) -> Result<Generator> {
        if self.size > MAX_HUMAN_SIZE {
            return Err(Error::InvalidValue {
                field: "size".into(),
                message: format!(
                    "{}: a human test page shows images of at most {MAX_HUMAN_SIZE} pixels",
                    self.size
                ),
            });
        }
        let mut config = GeneratorConfig::new(Preset::Iqtt, self.size, self.seed);
        if self.hard {
            config.iqtt = IqttOptions::hard();
        }
        Generator::new(config)
    }
}

/// One answer a person gave.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HumanAnswer {
    /// The question's generator index.
    pub question: u64,
    /// The answer chosen: 0, 1 or 2 (answers 1–3 on the page).
    pub choice: u8,
    /// Milliseconds from showing the question to the click.
    pub ms: f64,
}

/// The answers file the page offers for download.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerSheet {
    /// [`ANSWERS_FORMAT`].
    pub format: String,
    /// [`ANSWERS_VERSION`].
    pub version: u32,
    /// The page's questions.
    pub test: HumanTest,
    /// The answers, in the order given.
    pub answers: Vec<HumanAnswer>,
    /// The score the page showed.
    pub score: Accuracy,
}

/// Writes `dir/index.html`: the questions `first .. first + count` of `test` with their
/// images embedded (PNG data URLs), nothing loaded from elsewhere. Returns the page's path.
///
/// # Errors
/// [`Error::InvalidValue`] for no questions or a size the generator refuses, [`Error::Io`]
/// naming the file or directory.
pub fn write_human_page(dir: &Path, test: &HumanTest) -> Result<PathBuf> {
    if test.count == 0 {
        return Err(Error::InvalidValue {
            field: "--count".into(),
            message: "0: the page needs at least one question".into(),
        });
    }
    let generator = test.generator()?;
    let questions: Vec<serde_json::Value> = test
        .questions()
        .map(|i| {
            let q = generator.question(i);
            let images: Vec<String> = q
                .views
                .iter()
                .map(|v| {
                    let image = RgbImage {
                        width: test.size,
                        height: test.size,
                        data: v.frame.image.clone(),
                    };
                    format!("data:image/png;base64,{}", STANDARD.encode(image.to_png()))
                })
                .collect();
            serde_json::json!({ "question": i, "images": images, "answer": q.answer })
        })
        .collect();
    let data = serde_json::json!({
        "format": ANSWERS_FORMAT,
        "version": ANSWERS_VERSION,
        "test": test,
        "questions": questions,
    });
    // `</` cannot end the script element early inside JSON strings once escaped.
    let data = data.to_string().replace("</", "<\\/");
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>3D-IQ test</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n\
         <h1>3D-IQ test</h1>\n\
         <p>The top image shows an object made of cubes. Which one of the three images below \
         shows <em>the same object</em>, rotated? The others are different objects (some are \
         mirror images). Click it; your time is recorded.</p>\n\
         <section id=\"question\">\n<p id=\"progress\"></p>\n\
         <img id=\"reference\" alt=\"reference\">\n<div id=\"answers\">\n\
         <button id=\"answer-0\"><img alt=\"answer 1\"></button>\n\
         <button id=\"answer-1\"><img alt=\"answer 2\"></button>\n\
         <button id=\"answer-2\"><img alt=\"answer 3\"></button>\n</div>\n</section>\n\
         <section id=\"done\" hidden>\n<p id=\"score\"></p>\n\
         <a id=\"download\" download=\"iqtt-answers.json\">Download your answers (JSON)</a>\n\
         </section>\n<script>const TEST = {data};</script>\n<script>\n{SCRIPT}</script>\n\
         </body>\n</html>\n"
    );
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let path = dir.join("index.html");
    write_atomic(&path, html.as_bytes())?;
    Ok(path)
}

/// Reads an answers file and scores it against the questions regenerated from its settings
/// (the page's own `score` is not trusted). Returns the sheet and its accuracy.
///
/// # Errors
/// [`Error::Io`] naming an unreadable file; [`Error::Parse`] naming the file for anything that
/// is not an answers file: malformed JSON, another format or version, no answers, a choice
/// other than 0, 1 or 2, a question not on the page, or a question answered twice.
pub fn score_answers(path: &Path) -> Result<(AnswerSheet, Accuracy)> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    score_answer_text(&text, path)
}

/// [`score_answers`] of an answers file's text; `path` only names the file in errors. The cost
/// is linear in the text: no question is rendered, only its answer drawn
/// ([`Generator::question_answer`]).
///
/// # Errors
/// [`Error::Parse`] naming `path`, as [`score_answers`].
pub fn score_answer_text(text: &str, path: &Path) -> Result<(AnswerSheet, Accuracy)> {
    let bad = |line: Option<usize>, message: String| Error::Parse {
        path: path.to_path_buf(),
        line,
        message,
    };
    let sheet: AnswerSheet = serde_json::from_str(text).map_err(|e| {
        bad(
            Some(e.line()),
            format!("not a 3D-IQTT answers file: {}", one_line(&e.to_string())),
        )
    })?;
    if sheet.format != ANSWERS_FORMAT || sheet.version != ANSWERS_VERSION {
        return Err(bad(
            None,
            format!(
                "format {:?} version {}, expected {ANSWERS_FORMAT:?} version {ANSWERS_VERSION}",
                one_line(&sheet.format),
                sheet.version
            ),
        ));
    }
    if sheet.answers.is_empty() {
        return Err(bad(None, "no answers".into()));
    }
    let generator = sheet
        .test
        .generator()
        .map_err(|e| bad(None, format!("test.{e}")))?;
    let mut seen = HashSet::new();
    let mut accuracy = Accuracy::default();
    for (i, a) in sheet.answers.iter().enumerate() {
        if a.choice > 2 {
            return Err(bad(
                None,
                format!("answer {}: choice {} is not 0, 1 or 2", i + 1, a.choice),
            ));
        }
        if !sheet.test.questions().contains(&a.question) {
            return Err(bad(
                None,
                format!(
                    "answer {}: question {} is not one of the page's ({} from {})",
                    i + 1,
                    a.question,
                    sheet.test.count,
                    sheet.test.first
                ),
            ));
        }
        if !seen.insert(a.question) {
            return Err(bad(
                None,
                format!("answer {}: question {} answered twice", i + 1, a.question),
            ));
        }
        accuracy = accuracy + Accuracy::of(generator.question_answer(a.question) == a.choice);
    }
    Ok((sheet, accuracy))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("p2s-human-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    const TEST: HumanTest = HumanTest {
        size: 16,
        seed: 4,
        hard: false,
        first: 100,
        count: 3,
    };

    #[test]
    fn page_embeds_every_image_and_nothing_external() {
        let dir = scratch("page");
        let page = std::fs::read_to_string(write_human_page(&dir, &TEST).unwrap()).unwrap();
        assert_eq!(page.matches("data:image/png;base64,").count(), 12);
        assert!(
            !page.contains("src=\"http") && !page.contains("<link"),
            "external resource"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// The score counts the choices that equal the regenerated questions' answers.
    #[test]
    fn answers_are_scored_against_the_regenerated_questions() {
        let dir = scratch("score");
        let generator = TEST.generator().unwrap();
        let right = generator.question(100).answer;
        let wrong = (generator.question(101).answer + 1) % 3;
        let sheet = AnswerSheet {
            format: ANSWERS_FORMAT.into(),
            version: ANSWERS_VERSION,
            test: TEST,
            answers: vec![
                HumanAnswer {
                    question: 100,
                    choice: right,
                    ms: 812.0,
                },
                HumanAnswer {
                    question: 101,
                    choice: wrong,
                    ms: 1500.5,
                },
            ],
            // Whatever the page claims, the file is scored from the questions.
            score: Accuracy::new(2, 2),
        };
        let path = dir.join("answers.json");
        std::fs::write(&path, serde_json::to_string(&sheet).unwrap()).unwrap();
        let (read, accuracy) = score_answers(&path).unwrap();
        assert_eq!(read, sheet);
        assert_eq!(accuracy, Accuracy::new(1, 2));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn malformed_answers_files_are_refused_on_one_line() {
        let dir = scratch("bad");
        let path = dir.join("a.json");
        let good = format!(
            "{{\"format\": \"{ANSWERS_FORMAT}\", \"version\": 1, \"test\": {{\"size\": 16, \
             \"seed\": 4, \"hard\": false, \"first\": 0, \"count\": 2}}, \"answers\": ANSWERS, \
             \"score\": {{\"correct\": 0, \"total\": 2}}}}"
        );
        let cases = [
            ("{\"format\": \n 3}".to_string(), ":2: not a 3D-IQTT answers file: invalid type: integer `3`, expected a string at line 2 column 2"),
            (good.replace("ANSWERS", "[]"), ": no answers"),
            (
                good.replace("ANSWERS", "[{\"question\": 0, \"choice\": 3, \"ms\": 1.0}]"),
                ": answer 1: choice 3 is not 0, 1 or 2",
            ),
            (
                good.replace(
                    "ANSWERS",
                    "[{\"question\": 0, \"choice\": 1, \"ms\": 1.0}, {\"question\": 0, \"choice\": 2, \"ms\": 1.0}]",
                ),
                ": answer 2: question 0 answered twice",
            ),
            (
                good.replace("ANSWERS", "[{\"question\": 2, \"choice\": 1, \"ms\": 1.0}]"),
                ": answer 1: question 2 is not one of the page's (2 from 0)",
            ),
            (
                good.replace("ANSWERS", "[{\"question\": 0, \"choice\": 1, \"ms\": 1.0}]")
                    .replace("\"size\": 16", "\"size\": 8192"),
                ": test.size: 8192: a human test page shows images of at most 512 pixels",
            ),
            (
                good.replace("ANSWERS", "[]").replace(ANSWERS_FORMAT, "other"),
                ": format \"other\" version 1, expected \"pix2scene-iqtt-answers\" version 1",
            ),
        ];
        for (text, tail) in cases {
            std::fs::write(&path, text).unwrap();
            let msg = score_answers(&path).unwrap_err().to_string();
            assert_eq!(msg, format!("{}{tail}", path.display()));
            assert_eq!(msg.lines().count(), 1);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
