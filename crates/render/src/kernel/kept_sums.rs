//! The plane-fit sums the forward pass leaves for the backward pass.

use super::plane_fit::SUMS_CHANNELS;
use super::planes::Planes;
use super::point_grid::PointGrid;
use super::simd::Simd;

/// The Eq. 3 plane-fit sums of every pixel of a batch, in the planes the forward pass's bands
/// accumulated them in: one [`Planes`] per band of `rows` image rows (the bands of sample 0
/// first), each in the padded layout of its band's [`PointGrid`]. The first and last padded rows
/// of a band hold partial sums (the neighbouring bands hold the complete ones) and are never
/// read. Keeping the bands' planes instead of copying the sums into a dense
/// `[batch, SUMS_CHANNELS, size, size]` buffer saves a zero fill and a store of 5 floats per
/// pixel.
#[derive(Clone, Debug)]
pub(crate) struct KeptSums {
    /// Image rows per band (the last band of a sample may have fewer).
    rows: usize,
    /// Bands per sample.
    bands_per_sample: usize,
    /// Padded row length of the planes.
    width: usize,
    /// The planes of each band, sample by sample.
    bands: Vec<Planes<SUMS_CHANNELS>>,
}

impl KeptSums {
    /// The planes of the forward pass's bands of `rows` rows of images of side `size`, in band
    /// order.
    ///
    /// # Panics
    /// If the number of planes is not a whole number of samples' bands.
    pub fn new(size: usize, rows: usize, bands: Vec<Planes<SUMS_CHANNELS>>) -> Self {
        let bands_per_sample = size.div_ceil(rows);
        assert_eq!(bands.len() % bands_per_sample, 0, "bands of whole samples");
        Self {
            rows,
            bands_per_sample,
            width: PointGrid::padded_width(size),
            bands,
        }
    }

    /// Number of samples.
    pub fn batch(&self) -> usize {
        self.bands.len() / self.bands_per_sample
    }

    /// The sums of the lane group of pixels from column `col` of image row `row` of sample `b`
    /// (lanes past the image's right edge hold the padding's partial sums).
    #[inline(always)]
    pub fn load<L: Simd>(&self, b: usize, row: usize, col: usize) -> [L; SUMS_CHANNELS] {
        let band = row / self.rows;
        let i = PointGrid::index_in(self.width, band * self.rows, row, col);
        self.bands[b * self.bands_per_sample + band].load(i)
    }
}
