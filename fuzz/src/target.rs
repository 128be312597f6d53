//! A fuzz target: one parser of outside input, its seed files, and its memory bound.

/// The most live heap memory one input may make a parser hold: `per_input_byte` bytes per byte
/// of input plus `fixed` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocBound {
    /// Bytes allowed per byte of input.
    pub per_input_byte: u64,
    /// Bytes allowed whatever the input's length.
    pub fixed: u64,
}

impl AllocBound {
    /// The bound for an input of `len` bytes.
    pub fn for_len(&self, len: usize) -> u64 {
        self.per_input_byte * len as u64 + self.fixed
    }
}

/// One parser under test.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// Short name (`obj`, `npy`, …), as given to `scripts/fuzz.sh`.
    pub name: &'static str,
    /// What the target parses, in a few words.
    pub what: &'static str,
    /// Valid inputs written by the project itself, mutated by the engine.
    pub seeds: fn() -> Vec<Vec<u8>>,
    /// Tokens the mutator inserts: keywords and values that matter to this format.
    pub dictionary: &'static [&'static [u8]],
    /// Parses one input: `Ok` if accepted, or the rejection's message. Panics only where a
    /// property of the target itself fails (e.g. an altered shard accepted).
    pub run: fn(&[u8]) -> Result<(), String>,
    /// Memory bound per input.
    pub bound: AllocBound,
}
