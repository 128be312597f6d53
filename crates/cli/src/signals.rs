//! Ctrl-C and SIGTERM for long commands: the first signal asks the command to finish its step,
//! save and exit normally; a second one exits at once.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use signal_hook::consts::{SIGINT, SIGTERM};

/// Exit status after a second signal (128 + SIGINT, as a shell reports an interrupted command).
const INTERRUPTED_EXIT: i32 = 130;

/// A stop flag that SIGINT and SIGTERM set; when it is already set, the signal exits the
/// process with status 130.
///
/// # Errors
/// If a handler cannot be registered.
pub fn stop_flag() -> anyhow::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        // The conditional shutdown is registered first, so that it sees the flag as the
        // previous signal left it.
        signal_hook::flag::register_conditional_shutdown(signal, INTERRUPTED_EXIT, flag.clone())
            .and_then(|_| signal_hook::flag::register(signal, flag.clone()))
            .with_context(|| format!("installing the handler of signal {signal}"))?;
    }
    Ok(flag)
}
