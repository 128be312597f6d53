//! The mutation engine: runs a target on mutated inputs and checks every property on each.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Once, RwLock};
use std::time::{Duration, Instant};

use rand::Rng;
use rand::seq::IndexedRandom;

use crate::allocation::peak_heap;
use crate::mutator::Mutator;
use crate::target::Target;

/// An input that runs this long is a hang: the engine writes it to a file and aborts.
pub const HANG: Duration = Duration::from_secs(20);

/// Most inputs kept in the engine's corpus besides the seeds.
const MAX_CORPUS: usize = 512;

/// An input that broke a property.
#[derive(Clone, Debug)]
pub struct Failure {
    /// Which property: `panic`, `multi-line error`, `empty error` or `memory`.
    pub kind: String,
    /// What happened.
    pub message: String,
    /// Where the input was saved.
    pub input: PathBuf,
}

/// What a run of the engine on one target did.
#[derive(Clone, Debug)]
pub struct Report {
    /// Target name.
    pub target: &'static str,
    /// Inputs run.
    pub inputs: u64,
    /// Inputs the parser accepted.
    pub accepted: u64,
    /// Inputs it rejected with a one-line error.
    pub rejected: u64,
    /// Distinct outcomes seen (acceptance, or an error message with its numbers and quoted
    /// values removed): a rough measure of how much of the parser was reached.
    pub outcomes: usize,
    /// Largest peak of live heap bytes of one input, and that input's length.
    pub peak_bytes: (u64, usize),
    /// Largest share of its memory bound that one input used.
    pub peak_share: f64,
    /// Longest time one input took.
    pub slowest: Duration,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Inputs that broke a property.
    pub failures: Vec<Failure>,
}

impl Report {
    /// Inputs per second of wall time.
    pub fn inputs_per_s(&self) -> f64 {
        self.inputs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The outcome of one input that kept every property: accepted, or rejected with this message.
pub type Outcome = Result<(), String>;

thread_local! {
    static IN_TARGET: Cell<bool> = const { Cell::new(false) };
    static PANIC_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Routes panics inside a target to the engine (recorded, not printed); others print as usual.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if IN_TARGET.with(Cell::get) {
                let at = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                let text = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                PANIC_MESSAGE.with(|m| *m.borrow_mut() = Some(format!("{text}{at}")));
            } else {
                default(info);
            }
        }));
    });
}

/// Runs `target` on `data` once and checks its properties (hangs aside): no panic, a non-empty
/// one-line message for a rejection, peak memory within the target's bound. Returns the
/// outcome and the peak of live heap bytes, or the broken property and what happened.
pub fn check(target: &Target, data: &[u8]) -> Result<(Outcome, u64), (String, String)> {
    install_panic_hook();
    IN_TARGET.with(|f| f.set(true));
    let (result, peak) = peak_heap(|| panic::catch_unwind(AssertUnwindSafe(|| (target.run)(data))));
    IN_TARGET.with(|f| f.set(false));
    let outcome = result.map_err(|_| {
        let message = PANIC_MESSAGE
            .with(|m| m.borrow_mut().take())
            .unwrap_or_default();
        ("panic".to_string(), message)
    })?;
    if let Err(message) = &outcome {
        if message.is_empty() {
            return Err(("empty error".into(), String::new()));
        }
        if message.contains(['\n', '\r']) {
            return Err(("multi-line error".into(), message.clone()));
        }
    }
    let bound = target.bound.for_len(data.len());
    if peak > bound {
        return Err((
            "memory".into(),
            format!(
                "peak {peak} live bytes for a {}-byte input, bound {bound}",
                data.len()
            ),
        ));
    }
    Ok((outcome, peak))
}

/// [`check`] for an external engine (libFuzzer): panics, outside the parser, if `data` breaks a
/// property, so that the engine records it. The target's seeds are made on the first call, so
/// that their memory is not charged to an input.
///
/// # Panics
/// If `data` breaks a property of `target`.
pub fn check_or_panic(target: &Target, data: &[u8]) {
    static SEEDED: Once = Once::new();
    SEEDED.call_once(|| drop((target.seeds)()));
    if let Err((kind, message)) = check(target, data) {
        panic!("{} broke a property: {kind}: {message}", target.name);
    }
}

/// An outcome with the parts that vary from input to input removed (numbers, quoted text).
fn outcome_kind(outcome: &Outcome) -> String {
    let Err(message) = outcome else {
        return "accepted".into();
    };
    let mut kind = String::new();
    let mut quoted = None;
    for c in message.chars() {
        match quoted {
            Some(q) if c == q => quoted = None,
            Some(_) => {}
            None if c == '"' || c == '`' => quoted = Some(c),
            None if c.is_ascii_digit() => {
                if !kind.ends_with('#') {
                    kind.push('#');
                }
            }
            None => kind.push(c),
        }
    }
    kind
}

/// Saves a failing input and describes it.
fn save(target: &Target, data: &[u8], kind: String, message: String) -> Failure {
    let dir = std::env::temp_dir().join("pix2scene-fuzz-failures");
    let input = dir.join(format!(
        "{}-{}-{:016x}.bin",
        target.name,
        kind.replace(' ', "-"),
        fingerprint(data)
    ));
    // The failure is reported whether or not the input could be saved.
    let _ = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&input, data));
    Failure {
        kind,
        message,
        input,
    }
}

/// A 64-bit FNV-1a hash, to name saved inputs.
fn fingerprint(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

/// Aborts the process, after saving the input, if one input runs longer than [`HANG`].
struct Watchdog {
    /// Milliseconds since `epoch` at which the current input started; `u64::MAX` when idle.
    started_ms: Arc<AtomicU64>,
    current: Arc<RwLock<Vec<u8>>>,
    done: Arc<AtomicBool>,
    epoch: Instant,
}

impl Watchdog {
    fn start(target: Target) -> Self {
        let dog = Self {
            started_ms: Arc::new(AtomicU64::new(u64::MAX)),
            current: Arc::new(RwLock::new(Vec::new())),
            done: Arc::new(AtomicBool::new(false)),
            epoch: Instant::now(),
        };
        let (started, current, done, epoch) = (
            dog.started_ms.clone(),
            dog.current.clone(),
            dog.done.clone(),
            dog.epoch,
        );
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let at = started.load(Ordering::Relaxed);
                let now = epoch.elapsed().as_millis() as u64;
                if at != u64::MAX && now.saturating_sub(at) > HANG.as_millis() as u64 {
                    let data = current.read().map(|d| d.clone()).unwrap_or_default();
                    let failure = save(&target, &data, "hang".into(), String::new());
                    eprintln!(
                        "fuzz {}: an input ran for over {HANG:?}; saved to {}",
                        target.name,
                        failure.input.display()
                    );
                    std::process::abort();
                }
            }
        });
        dog
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
    }
}

/// Runs `target` on `inputs` inputs drawn by a mutator seeded with `seed`: each a seed file or a
/// kept input, mutated (one input in 32 is random bytes). Inputs with an outcome not seen before
/// join the corpus. The same `seed` gives the same inputs.
pub fn fuzz(target: &Target, inputs: u64, seed: u64) -> Report {
    let seeds = (target.seeds)();
    let mut corpus = seeds.clone();
    let mut kinds = HashSet::new();
    let mut mutator = Mutator::new(seed);
    let dog = Watchdog::start(*target);
    let started = Instant::now();
    let mut report = Report {
        target: target.name,
        inputs: 0,
        accepted: 0,
        rejected: 0,
        outcomes: 0,
        peak_bytes: (0, 0),
        peak_share: 0.0,
        slowest: Duration::ZERO,
        elapsed: Duration::ZERO,
        failures: Vec::new(),
    };
    for i in 0..inputs {
        let mut data = if i < seeds.len() as u64 {
            seeds[i as usize].clone()
        } else if mutator.rng().random_ratio(1, 32) {
            let n = mutator.rng().random_range(0..256);
            (0..n).map(|_| mutator.rng().random()).collect()
        } else {
            let mut d = corpus.choose(mutator.rng()).cloned().unwrap_or_default();
            mutator.mutate(&mut d, target.dictionary, &corpus);
            d
        };
        if let Ok(mut current) = dog.current.write() {
            std::mem::swap(&mut *current, &mut data);
        }
        let guard = dog.current.read().ok();
        let data = guard.as_deref().map_or(&[][..], |d| d.as_slice());
        let t = Instant::now();
        dog.started_ms
            .store(dog.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        let result = check(target, data);
        dog.started_ms.store(u64::MAX, Ordering::Relaxed);
        report.slowest = report.slowest.max(t.elapsed());
        report.inputs += 1;
        match result {
            Ok((outcome, peak)) => {
                if outcome.is_ok() {
                    report.accepted += 1;
                } else {
                    report.rejected += 1;
                }
                if peak > report.peak_bytes.0 {
                    report.peak_bytes = (peak, data.len());
                }
                let share = peak as f64 / target.bound.for_len(data.len()) as f64;
                report.peak_share = report.peak_share.max(share);
                if kinds.insert(outcome_kind(&outcome)) && corpus.len() < seeds.len() + MAX_CORPUS {
                    corpus.push(data.to_vec());
                }
            }
            Err((kind, message)) => {
                report.failures.push(save(target, data, kind, message));
            }
        }
    }
    report.outcomes = kinds.len();
    report.elapsed = started.elapsed();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_kinds_ignore_numbers_and_quoted_values() {
        let a = outcome_kind(&Err("x.obj:12: invalid vertex coordinate \"1e9x\"".into()));
        let b = outcome_kind(&Err("x.obj:3: invalid vertex coordinate \"q\"".into()));
        assert_eq!(a, b);
        assert_eq!(a, "x.obj:#: invalid vertex coordinate ");
        assert_eq!(outcome_kind(&Ok(())), "accepted");
    }

    fn panicking(data: &[u8]) -> Result<(), String> {
        match data.first() {
            Some(b'p') => panic!("boom"),
            Some(b'n') => Err("two\nlines".into()),
            Some(b'm') => {
                std::hint::black_box(vec![0u8; 1 << 20]);
                Ok(())
            }
            _ => Err("fine".into()),
        }
    }

    #[test]
    fn each_broken_property_is_caught() {
        let target = Target {
            name: "selftest",
            what: "the harness itself",
            seeds: Vec::new,
            dictionary: &[],
            run: panicking,
            bound: crate::AllocBound {
                per_input_byte: 1,
                fixed: 4096,
            },
        };
        let kind = |d: &[u8]| check(&target, d).err().map(|(k, _)| k);
        assert_eq!(kind(b"p"), Some("panic".into()));
        assert!(check(&target, b"p").unwrap_err().1.starts_with("boom at "));
        assert_eq!(kind(b"n"), Some("multi-line error".into()));
        assert_eq!(kind(b"m"), Some("memory".into()));
        assert_eq!(kind(b"x"), None);
    }
}
