//! The floating-point work of the networks' convolutions: layer shapes, their multiply-adds, and
//! a ledger of what the CPU kernels did and how long it took.
//!
//! Every convolution of the [`Encoder`](crate::Encoder), [`Decoder`](crate::Decoder) and
//! [`Critic`](crate::Critic) is a [`ConvShape`]; `conv_shapes()` of each config lists them. A
//! convolution of one sample costs [`ConvShape::macs`] multiply-adds (2 FLOP each) in each of
//! its three passes: the forward product, the input gradient and the weight gradient.
//!
//! The ledger: while [`start_recording`] is on (per thread), every convolution that the `Flex`
//! kernels run on that thread adds its FLOP and its wall-clock seconds to the entry of its
//! [`Part`], [`Pass`] and shape; [`take_records`] returns them. Forward and backward run on the
//! thread that calls the networks and `backward()`, so one training loop's work is recorded
//! whole, whatever other threads do.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;

/// The part of the model a convolution runs for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// [`Encoder::forward`](crate::Encoder::forward) and its backward.
    Encoder,
    /// [`Decoder::forward`](crate::Decoder::forward) and its backward.
    Decoder,
    /// [`Critic::forward`](crate::Critic::forward) and its backward.
    Critic,
    /// The critic's convolutions as the gradient penalty runs them
    /// ([`Critic::input_gradient`](crate::Critic::input_gradient)): the forward pass for the
    /// slope masks, the transposed convolutions of `∂D/∂x`, and their backward.
    Penalty,
}

/// A pass of a convolution operation (a transposed convolution's passes are its own: its
/// forward is a convolution's input gradient, and so on).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pass {
    /// The operation's output.
    Forward,
    /// The gradient with respect to its input.
    InputGradient,
    /// The gradient with respect to its weight.
    WeightGradient,
}

/// The shape of one convolution operation (square kernel, same stride and padding on both
/// axes, no dilation or groups).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ConvShape {
    /// A transposed convolution (weight `[c_in, c_out, k, k]`) rather than a convolution
    /// (weight `[c_out, c_in, k, k]`).
    pub transposed: bool,
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Kernel side.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Zero padding.
    pub padding: usize,
    /// Input height and width, pixels.
    pub input: [usize; 2],
}

impl ConvShape {
    /// A convolution of a `[c_in, input]` map.
    pub fn conv(c_in: usize, c_out: usize, kernel: usize, stride: usize, padding: usize) -> Self {
        Self {
            transposed: false,
            c_in,
            c_out,
            kernel,
            stride,
            padding,
            input: [0, 0],
        }
    }

    /// A transposed convolution (no output padding) of a `[c_in, input]` map.
    pub fn transpose(
        c_in: usize,
        c_out: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
    ) -> Self {
        Self {
            transposed: true,
            ..Self::conv(c_in, c_out, kernel, stride, padding)
        }
    }

    /// The same operation on an `input` map.
    pub fn on(self, input: [usize; 2]) -> Self {
        Self { input, ..self }
    }

    /// Output height and width, pixels.
    ///
    /// # Panics
    /// If the padded input is smaller than the kernel (convolution) or the padding crops the
    /// whole output (transposed convolution).
    pub fn output(&self) -> [usize; 2] {
        let (k, s, p) = (self.kernel, self.stride, self.padding);
        self.input.map(|n| {
            if self.transposed {
                let full = (n - 1) * s + k;
                assert!(full > 2 * p, "padding {p} crops the whole map");
                full - 2 * p
            } else {
                assert!(n + 2 * p >= k, "map {n} + 2·{p} smaller than kernel {k}");
                (n + 2 * p - k) / s + 1
            }
        })
    }

    /// Multiply-adds of one pass of one sample: `c_in·c_out·k²` per pixel of the small side
    /// (a convolution's output, a transposed convolution's input). The forward product, the
    /// input gradient and the weight gradient each cost this much.
    pub fn macs(&self) -> u64 {
        let small = if self.transposed {
            self.input
        } else {
            self.output()
        };
        (self.c_in * self.c_out * self.kernel * self.kernel * small[0] * small[1]) as u64
    }
}

/// What the kernels did for one part, pass and shape while recording.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct WorkRecord {
    /// Whose convolution.
    pub part: Part,
    /// Which pass.
    pub pass: Pass,
    /// The operation.
    pub shape: ConvShape,
    /// Operations run.
    pub calls: u64,
    /// Floating-point operations (2 per multiply-add), summed over the calls.
    pub flop: u64,
    /// Wall-clock seconds on the calling thread, summed over the calls.
    pub seconds: f64,
}

/// Key of a ledger entry.
type Key = (Part, Pass, ConvShape);

thread_local! {
    /// The part whose forward pass is running on this thread.
    static PART: Cell<Option<Part>> = const { Cell::new(None) };
    /// The ledger of this thread, `None` when not recording.
    static LEDGER: RefCell<Option<BTreeMap<Key, WorkRecord>>> = const { RefCell::new(None) };
}

/// Starts recording the convolutions run on this thread (clearing earlier records).
pub fn start_recording() {
    LEDGER.with(|l| *l.borrow_mut() = Some(BTreeMap::new()));
}

/// Stops recording on this thread and returns the records, ordered by part, pass and shape
/// (empty if it was not recording).
pub fn take_records() -> Vec<WorkRecord> {
    LEDGER
        .with(|l| l.borrow_mut().take().map(|m| m.into_values().collect()))
        .unwrap_or_default()
}

/// Marks the convolutions run on this thread, until the guard drops, as `part`'s (the previous
/// mark is restored then).
pub(crate) fn part_scope(part: Part) -> PartScope {
    PartScope(PART.with(|p| p.replace(Some(part))))
}

/// Restores the previous part mark when dropped.
pub(crate) struct PartScope(Option<Part>);

impl Drop for PartScope {
    fn drop(&mut self) {
        PART.with(|p| p.set(self.0));
    }
}

/// The part marked on this thread (`None` outside the networks' forward passes).
pub(crate) fn current_part() -> Option<Part> {
    PART.with(Cell::get)
}

/// Runs `f`, one `pass` of a `shape` convolution over `batch` samples for `part`, and records it
/// when this thread is recording and `part` is known.
pub(crate) fn timed<T>(
    part: Option<Part>,
    pass: Pass,
    shape: ConvShape,
    batch: usize,
    f: impl FnOnce() -> T,
) -> T {
    let recording = part.is_some() && LEDGER.with(|l| l.borrow().is_some());
    if !recording {
        return f();
    }
    let start = Instant::now();
    let out = f();
    let seconds = start.elapsed().as_secs_f64();
    let part = part.expect("checked above");
    LEDGER.with(|l| {
        if let Some(ledger) = l.borrow_mut().as_mut() {
            let entry = ledger
                .entry((part, pass, shape))
                .or_insert_with(|| WorkRecord {
                    part,
                    pass,
                    shape,
                    calls: 0,
                    flop: 0,
                    seconds: 0.0,
                });
            entry.calls += 1;
            entry.flop += 2 * shape.macs() * batch as u64;
            entry.seconds += seconds;
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_sizes_and_macs_follow_the_formulas() {
        // 4×4 stride-2 convolution 3 → 8 of a 16×16 map: 8×8 outputs, 3·8·16 MACs each.
        let c = ConvShape::conv(3, 8, 4, 2, 1).on([16, 16]);
        assert_eq!(c.output(), [8, 8]);
        assert_eq!(c.macs(), 3 * 8 * 16 * 64);
        // Its transpose from 8×8 back to 16×16 costs the same.
        let t = ConvShape::transpose(8, 3, 4, 2, 1).on([8, 8]);
        assert_eq!(t.output(), [16, 16]);
        assert_eq!(t.macs(), c.macs());
        // The decoder's projection: 1×1 → 4×4.
        assert_eq!(
            ConvShape::transpose(9, 4, 4, 1, 0).on([1, 1]).output(),
            [4, 4]
        );
    }
}
