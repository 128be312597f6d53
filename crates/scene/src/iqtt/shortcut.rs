//! Image-only rules that answer 3D-IQTT questions without any 3D understanding: what a score
//! must beat before it says anything about 3D reasoning (docs/iqtt.md, "Shortcuts").

use std::ops::Range;

use rayon::prelude::*;

use super::accuracy::Accuracy;
use crate::generator::Generator;

/// A pixel is foreground when one of its channels exceeds this: question images show the
/// shape on a black background, and every lit or ambient-only surface is brighter (ambient
/// 0.08 times the albedo in the `iqtt` preset), so half an 8-bit step separates them.
const FOREGROUND_MIN: f32 = 1.0 / 512.0;

/// A rule that picks an answer from the four images of a question alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shortcut {
    /// The answer whose foreground pixel count is closest to the reference's.
    ForegroundArea,
    /// The answer nearest to the reference in pixels (smallest L2 distance over all RGB values).
    PixelNearest,
}

impl Shortcut {
    /// Every shortcut, in table order.
    pub const ALL: [Shortcut; 2] = [Shortcut::ForegroundArea, Shortcut::PixelNearest];

    /// The name used in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Shortcut::ForegroundArea => "area-nearest",
            Shortcut::PixelNearest => "pixel-nearest",
        }
    }

    /// The answer (0, 1 or 2) this rule picks; ties go to the lowest answer index (answer
    /// positions are uniformly random, so this favours no answer).
    ///
    /// # Shapes
    /// - `images`: the reference, then answers 1–3, each `[height, width, 3]` RGB in `[0, 1]`
    ///   on a black background, row-major
    ///
    /// # Panics
    /// If the images differ in length.
    pub fn answer(self, images: [&[f32]; 4]) -> u8 {
        let [reference, answers @ ..] = images;
        assert!(
            answers.iter().all(|a| a.len() == reference.len()),
            "question images differ in size"
        );
        let distance = |answer: &[f32]| -> f64 {
            match self {
                Shortcut::ForegroundArea => {
                    foreground_pixels(answer).abs_diff(foreground_pixels(reference)) as f64
                }
                Shortcut::PixelNearest => reference
                    .iter()
                    .zip(answer)
                    .map(|(a, b)| f64::from(a - b).powi(2))
                    .sum(),
            }
        };
        let d = answers.map(distance);
        (1..3).fold(0, |best, k| if d[k] < d[best] { k } else { best }) as u8
    }
}

/// Number of pixels of an `[height, width, 3]` image with a channel above [`FOREGROUND_MIN`].
fn foreground_pixels(image: &[f32]) -> usize {
    image
        .chunks_exact(3)
        .filter(|rgb| rgb.iter().any(|&v| v > FOREGROUND_MIN))
        .count()
}

/// The accuracy of every [`Shortcut`] (in [`Shortcut::ALL`] order) on the questions `indices`
/// of a 3D-IQTT generator, drawn in parallel on rayon's current pool and kept one at a time.
/// The result does not depend on the thread count.
///
/// # Panics
/// If the generator's preset is not `iqtt`.
pub fn shortcut_accuracies(generator: &Generator, indices: Range<u64>) -> [Accuracy; 2] {
    indices
        .into_par_iter()
        .map(|i| {
            let q = generator.question(i);
            let images = q.views.each_ref().map(|v| v.frame.image.as_slice());
            Shortcut::ALL.map(|s| Accuracy::of(s.answer(images) == q.answer))
        })
        .reduce(
            || [Accuracy::default(); 2],
            |a, b| [a[0] + b[0], a[1] + b[1]],
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `size²` black image with a `w×h` block of colour `c` at the top left.
    fn block(size: usize, w: usize, h: usize, c: f32) -> Vec<f32> {
        let mut img = vec![0.0; size * size * 3];
        for y in 0..h {
            for x in 0..w {
                img[3 * (y * size + x)..3 * (y * size + x + 1)].fill(c);
            }
        }
        img
    }

    #[test]
    fn area_nearest_picks_the_closest_foreground_count() {
        let reference = block(8, 4, 4, 0.5); // 16 pixels
        let a = block(8, 2, 2, 0.5); // 4
        let b = block(8, 5, 3, 0.9); // 15: closest in area, far in colour
        let c = block(8, 6, 6, 0.5); // 36
        let images = [&reference[..], &a, &b, &c];
        assert_eq!(Shortcut::ForegroundArea.answer(images), 1);
        assert_eq!(foreground_pixels(&b), 15);
        // A dim pixel below the threshold is background, one above it foreground.
        let mut dim = block(8, 0, 0, 0.0);
        dim[0] = 1.0 / 1024.0;
        dim[3] = 1.0 / 256.0;
        assert_eq!(foreground_pixels(&dim), 1);
    }

    #[test]
    fn pixel_nearest_picks_the_smallest_l2_distance() {
        let reference = block(8, 4, 4, 0.5);
        let a = block(8, 4, 4, 0.9); // 16·3·0.16 = 7.68
        let b = block(8, 4, 4, 0.6); // 16·3·0.01 = 0.48
        let c = block(8, 5, 3, 0.5); // 7 differing pixels · 3 · 0.25 = 5.25
        assert_eq!(Shortcut::PixelNearest.answer([&reference, &a, &b, &c]), 1);
    }

    #[test]
    fn ties_go_to_the_lowest_answer() {
        let reference = block(8, 4, 4, 0.5);
        let far = block(8, 1, 1, 0.5);
        let same = block(8, 4, 4, 0.5);
        for s in Shortcut::ALL {
            assert_eq!(s.answer([&reference, &far, &same, &same]), 1);
            assert_eq!(s.answer([&reference, &same, &far, &same]), 0);
            assert_eq!(s.answer([&reference, &same, &same, &same]), 0);
        }
    }
}
