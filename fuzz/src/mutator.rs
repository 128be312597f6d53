//! A seeded mutator of byte strings: what the engine does to valid files to make hostile ones.

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Inputs never grow past this many bytes.
pub const MAX_INPUT_BYTES: usize = 1 << 20;

/// Tokens every format gets: numbers at the edges of every integer and float type, NaN and
/// infinities in the spellings parsers accept, and structure characters.
const COMMON: &[&[u8]] = &[
    b"0",
    b"-0",
    b"1",
    b"-1",
    b"255",
    b"256",
    b"65535",
    b"65536",
    b"2147483647",
    b"2147483648",
    b"-2147483649",
    b"4294967295",
    b"4294967296",
    b"9223372036854775807",
    b"9223372036854775808",
    b"18446744073709551615",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"1e38",
    b"3.5e38",
    b"1e39",
    b"1e300",
    b"-1e300",
    b"1e-45",
    b"1e-400",
    b"nan",
    b"NaN",
    b"inf",
    b"-inf",
    b"Infinity",
    b"-Infinity",
    b"1.#INF",
    b"0x10",
    b"1_000",
    b"+1",
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\r\n",
    b"\n",
    b" ",
    b"\t",
    b",",
    b"[",
    b"]",
    b"{",
    b"}",
    b"(",
    b")",
    b"\"",
    b"'",
    b"/",
    b"\\",
    b":",
    b"#",
];

/// A seeded source of mutations.
#[derive(Debug)]
pub struct Mutator {
    rng: ChaCha8Rng,
}

impl Mutator {
    /// A mutator whose choices are a pure function of `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// The random source, for the engine's own choices.
    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }

    /// Applies one to eight stacked mutations to `input`, drawing tokens from `dictionary` and
    /// the common tokens, and splice partners from `corpus`.
    pub fn mutate(&mut self, input: &mut Vec<u8>, dictionary: &[&[u8]], corpus: &[Vec<u8>]) {
        let n = 1 + self
            .rng
            .random_range(0..8usize)
            .min(self.rng.random_range(0..8));
        for _ in 0..n {
            self.mutate_once(input, dictionary, corpus);
        }
        input.truncate(MAX_INPUT_BYTES);
    }

    fn token(&mut self, dictionary: &[&[u8]]) -> Vec<u8> {
        let own = !dictionary.is_empty() && self.rng.random_bool(0.6);
        let list = if own { dictionary } else { COMMON };
        list.choose(&mut self.rng)
            .map_or(Vec::new(), |t| t.to_vec())
    }

    /// A position in `0..=len`.
    fn at(&mut self, len: usize) -> usize {
        self.rng.random_range(0..=len)
    }

    /// A range inside `0..len` (empty if `len` is 0), biased towards short ranges.
    fn range(&mut self, len: usize) -> std::ops::Range<usize> {
        let start = self.at(len);
        let max = (len - start).min(1 << self.rng.random_range(0..12));
        start..start + self.rng.random_range(0..=max)
    }

    fn mutate_once(&mut self, input: &mut Vec<u8>, dictionary: &[&[u8]], corpus: &[Vec<u8>]) {
        let len = input.len();
        match self.rng.random_range(0..13) {
            0 if len > 0 => {
                let i = self.rng.random_range(0..len);
                input[i] ^= 1 << self.rng.random_range(0..8);
            }
            1 if len > 0 => {
                let i = self.rng.random_range(0..len);
                input[i] = *[0u8, 1, 0x7f, 0x80, 0xff, b'0', b'9', b'-', b'.', b'e']
                    .choose(&mut self.rng)
                    .expect("non-empty");
            }
            2 => input.truncate(self.at(len)),
            3 => {
                input.drain(self.range(len));
            }
            4 => {
                let r = self.range(len);
                let copy = input[r].to_vec();
                let at = self.at(len);
                input.splice(at..at, copy);
            }
            5 => {
                let token = self.token(dictionary);
                let at = self.at(len);
                input.splice(at..at, token);
            }
            6 => {
                let token = self.token(dictionary);
                let r = self.range(len);
                input.splice(r, token);
            }
            7 => {
                if let Some(other) = corpus.choose(&mut self.rng) {
                    let (cut, from) = (self.at(len), self.at(other.len()));
                    input.truncate(cut);
                    input.extend_from_slice(&other[from..]);
                }
            }
            8 => self.replace_number(input),
            9 => {
                // A block repeated many times: huge counts of vertices, faces, shards, lights.
                let r = self.range(len);
                let block = input[r].to_vec();
                if !block.is_empty() {
                    let times = 1usize << self.rng.random_range(1..14);
                    let times = times.min(MAX_INPUT_BYTES / block.len());
                    let at = self.at(len);
                    let repeated = block.repeat(times);
                    input.splice(at..at, repeated);
                }
            }
            10 => {
                let n = self.rng.random_range(1..32);
                let bytes: Vec<u8> = (0..n).map(|_| self.rng.random()).collect();
                let at = self.at(len);
                input.splice(at..at, bytes);
            }
            11 => {
                // Deep nesting.
                let open: &[u8] = [b"[".as_slice(), b"{\"a\":", b"("]
                    .choose(&mut self.rng)
                    .expect("non-empty");
                let depth = 1usize << self.rng.random_range(4..16);
                let at = self.at(len);
                input.splice(at..at, open.repeat(depth));
            }
            _ => {
                let at = self.at(len);
                let token = self.token(dictionary);
                input.splice(at..at, token);
            }
        }
    }

    /// Replaces one run of ASCII digits with a number at the edge of some type's range.
    fn replace_number(&mut self, input: &mut Vec<u8>) {
        let starts: Vec<usize> = (0..input.len())
            .filter(|&i| input[i].is_ascii_digit() && (i == 0 || !input[i - 1].is_ascii_digit()))
            .collect();
        let Some(&start) = starts.choose(&mut self.rng) else {
            return;
        };
        let end = (start..input.len())
            .find(|&i| !input[i].is_ascii_digit())
            .unwrap_or(input.len());
        let number = self.token(&[]);
        input.splice(start..end, number);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_mutations() {
        let seed = b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n".to_vec();
        let run = |s| {
            let mut m = Mutator::new(s);
            (0..200)
                .map(|_| {
                    let mut x = seed.clone();
                    m.mutate(&mut x, &[b"f"], std::slice::from_ref(&seed));
                    x
                })
                .collect::<Vec<_>>()
        };
        let (a, b) = (run(7), run(7));
        assert_eq!(a, b);
        assert_ne!(a, run(8));
        assert!(
            a.iter().filter(|x| **x != seed).count() > 150,
            "most inputs change"
        );
        assert!(a.iter().all(|x| x.len() <= MAX_INPUT_BYTES));
    }
}
