//! Opening a dataset for scoring or reconstruction: one of single views of rooms, of the image
//! size the model takes.

use std::path::Path;

use pix2scene_scene::dataset::DatasetReader;
use pix2scene_scene::{Preset, Record, Sample};

use crate::error::{Error, Result};

/// Opens the dataset in `dir` (written by `pix2scene generate`) and checks that it holds single
/// views of rooms (not 3D-IQTT questions) of `size`² pixels, when a size is given.
///
/// # Errors
/// [`Error::Input`] naming the directory for an `iqtt` dataset or another image size; the
/// reader's errors (a missing or malformed manifest, a missing shard).
pub fn open_room_dataset(dir: &Path, size: Option<usize>) -> Result<DatasetReader> {
    let reader = DatasetReader::open(dir)?;
    let manifest = reader.manifest();
    let bad = |message: String| Error::Input {
        path: dir.to_path_buf(),
        message,
    };
    if manifest.config.preset == Preset::Iqtt {
        return Err(bad(
            "an iqtt dataset holds 3D-IQTT questions, not single views of rooms (score those \
             with `pix2scene iqtt`)"
                .into(),
        ));
    }
    if let Some(size) = size
        && manifest.size != size
    {
        return Err(bad(format!(
            "images are {0}×{0} pixels, the model takes {size}×{size}",
            manifest.size
        )));
    }
    Ok(reader)
}

/// Record `index` of an opened room dataset (reading the shards before it).
///
/// # Errors
/// [`Error::Input`] for an index past the end; the reader's errors.
pub fn read_record(reader: &DatasetReader, dir: &Path, index: u64) -> Result<Sample> {
    let count = reader.len();
    if index >= count {
        return Err(Error::Input {
            path: dir.to_path_buf(),
            message: format!("record {index} is out of range (the dataset holds {count} records)"),
        });
    }
    let shards = &reader.manifest().shards;
    if let Some(k) = shards
        .iter()
        .position(|s| (s.start..s.start + s.count as u64).contains(&index))
    {
        let record = reader
            .read_shard(k)?
            .into_iter()
            .nth((index - shards[k].start) as usize);
        if let Some(Record::View(sample)) = record {
            return Ok(sample);
        }
    }
    Err(Error::Input {
        path: dir.to_path_buf(),
        message: format!("record {index} is not a single view"),
    })
}
