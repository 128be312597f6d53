//! The bare PNG images `pix2scene reconstruct --input photo.png` reads.

use std::path::Path;

use pix2scene_eval::input::{PNG_MEMORY_LIMIT, decode_png};

use crate::target::{AllocBound, Target};

/// Side of the images the target decodes (the seeds' side; other sides are refused early).
const SIZE: usize = 16;

/// `decode_png` at 16² (what `read_png` does with the file's bytes). The input is a flag byte,
/// then the file: with the flag's lowest bit set, every whole chunk's CRC is rewritten for the
/// chunk as it is, so that mutations reach the parsing behind the checksums.
pub const RECONSTRUCT_PNG: Target = Target {
    name: "reconstruct-png",
    what: "reconstruct's PNG input images",
    seeds,
    dictionary: &[
        b"\x89PNG\r\n\x1a\n",
        b"IHDR",
        b"IDAT",
        b"IEND",
        b"PLTE",
        b"tRNS",
        b"iCCP",
        b"zTXt",
        b"iTXt",
        b"acTL",
        b"fcTL",
        b"\x00\x00\x00\x10\x00\x00\x00\x10",
        b"\x7f\xff\xff\xff",
        b"\xff\xff\xff\xff",
        b"\x08\x02",
        b"\x10\x06",
        b"\x01\x03",
    ],
    run,
    // The decoder's own limit, the image, and the linear values (12 bytes per pixel).
    bound: AllocBound {
        per_input_byte: 4,
        fixed: (PNG_MEMORY_LIMIT + 64 * SIZE * SIZE + (256 << 10)) as u64,
    },
};

fn run(data: &[u8]) -> Result<(), String> {
    let Some((&flag, file)) = data.split_first() else {
        return Err("empty input".into());
    };
    let mut file = file.to_vec();
    if flag & 1 == 1 {
        rewrite_crcs(&mut file);
    }
    let values = decode_png(&file, SIZE, Path::new("photo.png")).map_err(|e| e.to_string())?;
    if values.len() != SIZE * SIZE * 3 || values.iter().any(|v| !(0.0..=1.0).contains(v)) {
        panic!(
            "an accepted image is {} values, not all in [0, 1]",
            values.len()
        );
    }
    Ok(())
}

/// Rewrites the CRC of every whole chunk after the 8-byte signature (length, type, data, CRC
/// of type and data), up to the first chunk that runs past the end.
fn rewrite_crcs(file: &mut [u8]) {
    let mut at = 8;
    while at + 12 <= file.len() {
        let len = u32::from_be_bytes([file[at], file[at + 1], file[at + 2], file[at + 3]]) as usize;
        let Some(end) = (at + 8).checked_add(len).filter(|e| e + 4 <= file.len()) else {
            return;
        };
        let crc = crc32(&file[at + 4..end]);
        file[end..end + 4].copy_from_slice(&crc.to_be_bytes());
        at = end + 4;
    }
}

/// The CRC-32 of PNG chunks (ISO 3309, reflected polynomial 0xEDB88320), bit by bit.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// One PNG of each colour type the reader takes, 8- and 16-bit, and an indexed one.
fn seeds() -> Vec<Vec<u8>> {
    let encode = |color: png::ColorType, depth: png::BitDepth, palette: Option<Vec<u8>>| {
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, SIZE as u32, SIZE as u32);
        encoder.set_color(color);
        encoder.set_depth(depth);
        if let Some(p) = palette {
            encoder.set_palette(p);
        }
        let samples = match color {
            png::ColorType::Grayscale | png::ColorType::Indexed => 1,
            png::ColorType::GrayscaleAlpha => 2,
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
        };
        let bytes_per_sample = if depth == png::BitDepth::Sixteen {
            2
        } else {
            1
        };
        let pixels: Vec<u8> = (0..SIZE * SIZE * samples * bytes_per_sample)
            .map(|i| (i * 37 % 4) as u8)
            .collect();
        let mut writer = encoder.write_header().expect("a valid header");
        writer.write_image_data(&pixels).expect("valid data");
        writer.finish().expect("the PNG ends");
        bytes
    };
    let files = [
        encode(png::ColorType::Rgb, png::BitDepth::Eight, None),
        encode(png::ColorType::Rgba, png::BitDepth::Eight, None),
        encode(png::ColorType::Grayscale, png::BitDepth::Eight, None),
        encode(png::ColorType::GrayscaleAlpha, png::BitDepth::Eight, None),
        encode(png::ColorType::Rgb, png::BitDepth::Sixteen, None),
        encode(
            png::ColorType::Indexed,
            png::BitDepth::Eight,
            Some(vec![0; 12]),
        ),
    ];
    // Each file with its CRCs kept as mutated (flag 0) and rewritten (flag 1).
    files
        .iter()
        .flat_map(|f| [0u8, 1].map(|flag| [&[flag], f.as_slice()].concat()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_png_check_value_and_rewriting_keeps_valid_files() {
        // The standard check value of CRC-32 over "123456789".
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        for seed in seeds() {
            let mut file = seed[1..].to_vec();
            rewrite_crcs(&mut file);
            assert_eq!(file, &seed[1..]);
        }
    }
}
