//! Training presets: TOML files in `configs/` parsed into plain serde structs, command-line
//! overrides (`--set key=value`), validation, and the resolved `config.toml` of a run.
//!
//! One file per section ([`ModelSection`], [`DataSection`], [`OptimSection`], [`RunSection`]),
//! each validating its own keys; `[model]` delegates to the networks' configurations. Every
//! section is `#[serde(deny_unknown_fields)]`, so a typo in a preset is an error naming the key
//! instead of a run that silently trains with a default. Missing keys take the defaults
//! documented on each field (those of `configs/cpu-64.toml`).

mod data;
mod model;
mod optim;
mod run;

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use self::data::DataSection;
pub use self::model::ModelSection;
pub use self::optim::OptimSection;
pub use self::run::RunSection;
use crate::error::{Error, Result};

/// Keys that may change when a run is resumed; every other key keeps the run's value so that
/// the continuation is exact.
pub const RESUMABLE_KEYS: [&str; 3] = ["run.steps", "run.threads", "run.device"];

/// A whole training preset: what `configs/*.toml` holds and what a run records as `config.toml`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainPreset {
    /// Network sizes.
    #[serde(default)]
    pub model: ModelSection,
    /// Where the training images come from.
    #[serde(default)]
    pub data: DataSection,
    /// Objective and optimizer.
    #[serde(default)]
    pub optim: OptimSection,
    /// Length of the run, logging, checkpoints, device.
    #[serde(default)]
    pub run: RunSection,
}

impl TrainPreset {
    /// Reads a preset file and applies `overrides` (`key=value`, dotted keys such as
    /// `optim.lr=1e-4`), then validates the result.
    ///
    /// # Errors
    /// [`Error::Io`] when the file can't be read, [`Error::Preset`] for bad TOML or an unknown
    /// key (naming it and its line), [`Error::UnknownKey`] / [`Error::InvalidValue`] for a bad
    /// override or an out-of-range value.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
        Self::parse(&text, path, overrides)
    }

    /// Parses preset text (`path` only names it in errors); see [`TrainPreset::load`].
    ///
    /// # Errors
    /// As [`TrainPreset::load`], except for I/O.
    pub fn parse(text: &str, path: &Path, overrides: &[String]) -> Result<Self> {
        let preset: Self = parse_toml(text, path)?;
        let preset = preset.with_overrides(overrides)?;
        preset.validate()?;
        Ok(preset)
    }

    /// Returns a copy with `key=value` overrides applied (not validated; see
    /// [`TrainPreset::validate`]). Values are TOML (`1e-4`, `true`, `"boxes"`); a bare word that
    /// is not valid TOML is taken as a string (`data.preset=shapes`).
    ///
    /// # Errors
    /// [`Error::UnknownKey`] for a key outside the schema, [`Error::InvalidValue`] for a value of
    /// the wrong type or an argument without `=`.
    pub fn with_overrides(&self, overrides: &[String]) -> Result<Self> {
        with_overrides(self, overrides)
    }

    /// This run's preset with the overrides a resumed run is given (`pix2scene train --resume
    /// …`): the [`RESUMABLE_KEYS`] may change, any other key only to the value it already has
    /// (so a resume command may repeat the run's own flags).
    ///
    /// # Errors
    /// As [`TrainPreset::with_overrides`] and [`TrainPreset::validate`], and
    /// [`Error::InvalidValue`] naming a key outside [`RESUMABLE_KEYS`] whose value would change,
    /// with the run's value and the new one.
    pub fn resumed_with(&self, overrides: &[String]) -> Result<Self> {
        let resumed = self.with_overrides(overrides)?;
        resumed.validate()?;
        check_resumed(self, &resumed, overrides)?;
        Ok(resumed)
    }

    /// Checks every value's range and the options that need each other, section by section,
    /// naming the key and value of the first bad one.
    ///
    /// # Errors
    /// [`Error::InvalidValue`].
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        self.data.validate()?;
        self.optim.validate(&self.model, &self.data)?;
        self.run.validate()
    }

    /// The resolved preset as TOML, as written to a run's `config.toml`.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a preset always serializes to TOML")
    }

    /// The dataset directory, when `data.dir` is set.
    pub fn data_dir(&self) -> Option<PathBuf> {
        (!self.data.dir.is_empty()).then(|| PathBuf::from(&self.data.dir))
    }
}

/// Parses preset text into a schema (`path` only names it in errors): unknown keys and wrong
/// types are reported with their line.
///
/// # Errors
/// [`Error::Preset`] naming the file, the line and the key.
pub(crate) fn parse_toml<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T> {
    if let Some(line) = too_deep(text) {
        return Err(Error::Preset {
            path: path.to_path_buf(),
            line: Some(line),
            message: format!("arrays or tables nested deeper than {MAX_NESTING}"),
        });
    }
    toml::from_str(text).map_err(|err: toml::de::Error| {
        let line = err
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        Error::Preset {
            path: path.to_path_buf(),
            line,
            message: err.message().trim().to_string(),
        }
    })
}

/// A preset of any schema with `key=value` overrides applied (not validated). Values are TOML
/// (`1e-4`, `true`, `"boxes"`); a bare word that is not valid TOML is taken as a string.
///
/// # Errors
/// [`Error::UnknownKey`] for a key outside the schema, [`Error::InvalidValue`] for a value of
/// the wrong type or an argument without `=`.
pub(crate) fn with_overrides<T: Serialize + DeserializeOwned + Clone>(
    preset: &T,
    overrides: &[String],
) -> Result<T> {
    if overrides.is_empty() {
        return Ok(preset.clone());
    }
    // Every field of the schema serializes (none is optional), so the table holds every key an
    // override may name.
    let mut table = to_table(preset);
    for arg in overrides {
        // Echoed escaped: a raw line break would split the one-line error.
        if arg.chars().any(char::is_control) {
            return Err(Error::InvalidValue {
                key: "--set".into(),
                value: arg.escape_debug().to_string(),
                message: "an override may not hold a control character".into(),
            });
        }
        let (key, raw) = arg.split_once('=').ok_or_else(|| Error::InvalidValue {
            key: arg.clone(),
            value: String::new(),
            message: "expected key=value".into(),
        })?;
        let (key, raw) = (key.trim(), raw.trim());
        let parts: Vec<&str> = key.split('.').collect();
        let Some((leaf, sections)) = parts.split_last() else {
            return Err(Error::UnknownKey { key: key.into() });
        };
        let mut node = &mut table;
        for section in sections {
            node = match node.get_mut(*section) {
                Some(toml::Value::Table(t)) => t,
                _ => return Err(Error::UnknownKey { key: key.into() }),
            };
        }
        match node.get_mut(*leaf) {
            Some(slot) if !slot.is_table() => *slot = parse_value(raw),
            _ => return Err(Error::UnknownKey { key: key.into() }),
        }
        let candidate: std::result::Result<T, _> = table.clone().try_into();
        if let Err(err) = candidate {
            return Err(Error::InvalidValue {
                key: key.into(),
                value: raw.into(),
                message: err.message().trim().to_string(),
            });
        }
    }
    Ok(table.try_into().expect("checked after each override"))
}

/// Checks that the overrides given to a resumed run change only the [`RESUMABLE_KEYS`]: any
/// other key only to the value it already has (so a resume command may repeat the run's own
/// flags).
///
/// # Errors
/// [`Error::InvalidValue`] naming a key outside [`RESUMABLE_KEYS`] whose value would change,
/// with the run's value and the new one.
pub(crate) fn check_resumed<T: Serialize>(
    before: &T,
    after: &T,
    overrides: &[String],
) -> Result<()> {
    let (before, after) = (to_table(before), to_table(after));
    for arg in overrides {
        let (key, raw) = arg.split_once('=').unwrap_or((arg, ""));
        let key = key.trim();
        if RESUMABLE_KEYS.contains(&key) {
            continue;
        }
        let (old, new) = (value_at(&before, key), value_at(&after, key));
        if old != new {
            return Err(Error::invalid(
                key,
                raw.trim(),
                format!(
                    "cannot be changed when resuming: the run has {} (only {} can)",
                    old.map(toml::Value::to_string).unwrap_or_default(),
                    english_list(&RESUMABLE_KEYS)
                ),
            ));
        }
    }
    Ok(())
}

/// A preset as a TOML table, every key present.
fn to_table<T: Serialize>(preset: &T) -> toml::Table {
    toml::Table::try_from(preset).expect("a preset always serializes to TOML")
}

/// Deepest nesting of arrays and inline tables a preset or override may have (a preset needs 2;
/// the TOML parser recurses per level, so unbounded nesting would overflow the stack).
const MAX_NESTING: usize = 64;

/// The 1-based line where `text` (TOML) nests arrays or inline tables deeper than
/// [`MAX_NESTING`], or has more dotted-key separators than that on one line (each dot of a
/// key is a table level; a dot between two digits, a float's, does not count), if it does.
/// Brackets and dots inside strings and comments do not count.
fn too_deep(text: &str) -> Option<usize> {
    let (mut depth, mut line, mut dots) = (0usize, 1, 0usize);
    let mut prev = '\n';
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => {
                line += 1;
                dots = 0;
            }
            '.' if !(prev.is_ascii_digit() && chars.peek().is_some_and(char::is_ascii_digit)) => {
                dots += 1;
                if dots > MAX_NESTING {
                    return Some(line);
                }
            }
            '#' => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    chars.next();
                }
            }
            '"' | '\'' => {
                // A string, basic or literal (a multi-line one is three empty-or-not strings in
                // a row, which skips the same brackets).
                while let Some(s) = chars.next() {
                    match s {
                        '\n' => line += 1,
                        '\\' if c == '"' => {
                            chars.next();
                        }
                        s if s == c => break,
                        _ => {}
                    }
                }
            }
            '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(line);
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        prev = c;
    }
    None
}

/// Parses an override value as TOML, falling back to a plain string for bare words (and for
/// values nested deeper than [`MAX_NESTING`]).
fn parse_value(raw: &str) -> toml::Value {
    if too_deep(raw).is_some() {
        return toml::Value::String(raw.to_string());
    }
    let doc = format!("v = {raw}");
    match toml::from_str::<toml::Table>(&doc) {
        Ok(mut table) => table.remove("v").expect("the key was just written"),
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

/// The value at a dotted key of a preset's table, if the key exists.
fn value_at<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let (sections, leaf) = key.rsplit_once('.').unwrap_or(("", key));
    let mut node = table;
    for section in sections.split('.').filter(|s| !s.is_empty()) {
        node = node.get(section)?.as_table()?;
    }
    node.get(leaf)
}

/// `a, b and c`.
fn english_list(items: &[&str]) -> String {
    match items.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{parse, preset};

    #[test]
    fn every_preset_in_configs_parses_and_validates() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            // 3D-IQTT presets have their own schema (tested in `iqtt::config`).
            let iqtt = path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("iqtt-");
            if path.extension().is_some_and(|e| e == "toml") && !iqtt {
                let preset = TrainPreset::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
                // The resolved form reads back to the same preset.
                let again = TrainPreset::parse(&preset.to_toml(), &path, &[]).unwrap();
                assert_eq!(again, preset, "{}", path.display());
                names.push(path.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
        names.sort();
        for expected in ["cpu-64.toml", "paper-128.toml", "tiny-32.toml"] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} missing from {names:?}"
            );
        }
    }

    #[test]
    fn unknown_key_in_file_is_named_with_its_line() {
        let err = parse("[model]\nresolution = 32\n\n[optim]\nlrr = 0.1\n", &[]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("p.toml:5: unknown field `lrr`"), "{msg}");
    }

    #[test]
    fn unknown_section_is_rejected() {
        let msg = parse("[modle]\nwidth = 3\n", &[]).unwrap_err().to_string();
        assert!(msg.starts_with("p.toml:1: unknown field `modle`"), "{msg}");
    }

    #[test]
    fn wrong_type_in_file_is_named() {
        let msg = parse("[optim]\nbatch = \"six\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("p.toml:2: invalid type: string \"six\""),
            "{msg}"
        );
    }

    #[test]
    fn overrides_set_nested_keys() {
        let p = parse("", &["optim.lr=1e-3", "data.preset=shapes", "run.steps=7"]).unwrap();
        assert_eq!(p.optim.lr, 1e-3);
        assert_eq!(p.data.preset, "shapes");
        assert_eq!(p.run.steps, 7);
    }

    #[test]
    fn unknown_override_key_is_named() {
        let msg = parse("", &["optim.lrr=1"]).unwrap_err().to_string();
        assert_eq!(msg, "unknown config key `optim.lrr`");
        let msg = parse("", &["optim=1"]).unwrap_err().to_string();
        assert_eq!(msg, "unknown config key `optim`");
    }

    #[test]
    fn override_of_wrong_type_names_key_and_value() {
        let msg = parse("", &["optim.batch=abc"]).unwrap_err().to_string();
        assert!(
            msg.starts_with("optim.batch = abc: invalid type: string \"abc\""),
            "{msg}"
        );
    }

    /// Control characters (found by fuzzing `--set`) are refused on one line, escaped.
    #[test]
    fn override_with_a_control_character_is_refused_on_one_line() {
        let msg = parse("", &["optim.lr=1e-3\r\n[model]"])
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "--set = optim.lr=1e-3\\r\\n[model]: an override may not hold a control character"
        );
        assert_eq!(msg.lines().count(), 1);
    }

    /// Resuming accepts the run's own values again and the keys that may change; any other
    /// changed value is refused, naming the key, the run's value and the new one.
    #[test]
    fn resuming_accepts_unchanged_values_and_refuses_changed_ones() {
        let run = preset(&["run.seed=1", "data.preset=shapes"]).unwrap();
        let same = [
            "run.seed=1",
            "optim.lr=2e-4",
            "data.preset=shapes",
            "optim.batch=6",
        ];
        let resumed = run.resumed_with(&same.map(String::from)).unwrap();
        assert_eq!(resumed, run);
        let longer = run
            .resumed_with(&["run.steps=7".into(), "run.threads=2".into()])
            .unwrap();
        assert_eq!((longer.run.steps, longer.run.threads), (7, 2));
        let refused = |arg: &str| run.resumed_with(&[arg.into()]).unwrap_err().to_string();
        assert_eq!(
            refused("run.seed=2"),
            "run.seed = 2: cannot be changed when resuming: the run has 1 (only run.steps, \
             run.threads and run.device can)"
        );
        assert_eq!(
            refused("data.preset=boxes"),
            "data.preset = boxes: cannot be changed when resuming: the run has \"shapes\" (only \
             run.steps, run.threads and run.device can)"
        );
        assert_eq!(refused("optim.lrr=1"), "unknown config key `optim.lrr`");
    }

    #[test]
    fn deep_nesting_is_refused_naming_the_line() {
        let deep = format!(
            "[model]\nwidth = 8\nz = {}1{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let err = parse(&deep, &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "p.toml:3: arrays or tables nested deeper than 64"
        );
        // Brackets in strings and comments do not count.
        let quoted = format!(
            "# {}\n[run]\ndevice = \"{}\"\n",
            "[".repeat(100),
            "{".repeat(100)
        );
        assert_eq!(too_deep(&quoted), None);
        let dotted = format!("[run]\nsteps = 1.5\n{}x = 1\n", "x.".repeat(100_000));
        assert_eq!(too_deep(&dotted), Some(3));
        assert_eq!(too_deep(&format!("v = [{}]", "1.5, ".repeat(1000))), None);
        let value = format!("{}0{}", "[".repeat(100_000), "]".repeat(100_000));
        let err = preset(&[&format!("run.steps={value}")]).unwrap_err();
        assert!(err.to_string().starts_with("run.steps = [[[["), "{err}");
    }
}
