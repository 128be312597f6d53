//! The bytes of a shard file: the records of one shard laid out as safetensors tensors (field
//! list in the README).

use std::collections::HashMap;

use safetensors::Dtype;
use safetensors::tensor::TensorView;

use super::manifest::FORMAT_NAME;
use crate::generator::{Record, Sample};
use crate::sampling::MAX_LIGHTS;

/// A named little-endian tensor being assembled.
struct Column {
    name: &'static str,
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl Column {
    fn new(name: &'static str, dtype: Dtype, shape: Vec<usize>) -> Self {
        Self {
            name,
            dtype,
            shape,
            bytes: Vec::new(),
        }
    }

    fn f32s(&mut self, values: impl IntoIterator<Item = f32>) {
        for v in values {
            self.bytes.extend_from_slice(&v.to_le_bytes());
        }
    }

    fn i64s(&mut self, values: impl IntoIterator<Item = i64>) {
        for v in values {
            self.bytes.extend_from_slice(&v.to_le_bytes());
        }
    }
}

/// Lays out the records of one shard as safetensors bytes (field list in the README).
///
/// # Panics
/// If `records` is empty or mixes views and questions.
pub(crate) fn serialize_shard(records: &[Record], start: u64) -> Vec<u8> {
    let n = records.len();
    let views: Vec<&Sample> = records
        .iter()
        .flat_map(|r| match r {
            Record::View(s) => std::slice::from_ref(s).iter(),
            Record::Question(q) => q.views.iter(),
        })
        .collect();
    let per = views.len() / n;
    let s = views[0].frame.size_px;
    // Leading axes: [n] for views, [n, 4] for questions.
    let lead = |rest: &[usize]| {
        let mut v = if per == 1 { vec![n] } else { vec![n, per] };
        v.extend_from_slice(rest);
        v
    };
    let mut cols = vec![
        Column::new("image", Dtype::F32, lead(&[s, s, 3])),
        Column::new("depth", Dtype::F32, lead(&[s, s])),
        Column::new("normal", Dtype::F32, lead(&[s, s, 3])),
        Column::new("mask", Dtype::U8, lead(&[s, s])),
        Column::new("eye", Dtype::F32, lead(&[3])),
        Column::new("at", Dtype::F32, lead(&[3])),
        Column::new("up", Dtype::F32, lead(&[3])),
        Column::new("fovy_deg", Dtype::F32, lead(&[])),
        Column::new("light_pos", Dtype::F32, lead(&[MAX_LIGHTS, 3])),
        Column::new("light_pos_cam", Dtype::F32, lead(&[MAX_LIGHTS, 3])),
        Column::new("light_color", Dtype::F32, lead(&[MAX_LIGHTS, 3])),
        Column::new("light_count", Dtype::U8, lead(&[])),
    ];
    for v in &views {
        let f = &v.frame;
        cols[0].f32s(f.image.iter().copied());
        cols[1].f32s(f.depth.iter().copied());
        cols[2].f32s(f.normal.iter().copied());
        cols[3].bytes.extend_from_slice(&f.mask);
        cols[4].f32s(v.camera.eye.to_array());
        cols[5].f32s(v.camera.at.to_array());
        cols[6].f32s(v.camera.up.to_array());
        cols[7].f32s([v.camera.fov_y_deg]);
        for (col, lights) in [(8, &v.lights), (9, &v.lights_cam)] {
            for k in 0..MAX_LIGHTS {
                let p = lights.get(k).map_or([0.0; 3], |l| l.position.to_array());
                cols[col].f32s(p);
            }
        }
        for k in 0..MAX_LIGHTS {
            let c = v.lights.get(k).map_or([0.0; 3], |l| l.color.to_array());
            cols[10].f32s(c);
        }
        cols[11].bytes.push(v.lights.len() as u8);
    }
    let mut index = Column::new("index", Dtype::I64, vec![n]);
    index.i64s((0..n as u64).map(|i| (start + i) as i64));
    cols.push(index);
    match &records[0] {
        Record::View(_) => {
            let mut class = Column::new("class", Dtype::I64, vec![n]);
            class.i64s(views.iter().map(|v| v.class.map_or(-1, i64::from)));
            cols.push(class);
        }
        Record::Question(_) => {
            let mut answer = Column::new("answer", Dtype::I64, vec![n]);
            let mut shape_id = Column::new("shape_id", Dtype::I64, vec![n, 4]);
            let mut rotation = Column::new("rotation", Dtype::F32, vec![n, 4, 4]);
            for r in records {
                if let Record::Question(q) = r {
                    answer.i64s([i64::from(q.answer)]);
                    shape_id.i64s(q.shape_ids);
                    rotation.f32s(q.rotations.iter().flat_map(|r| r.to_array()));
                }
            }
            cols.extend([answer, shape_id, rotation]);
        }
    }
    let tensors: Vec<(&str, TensorView<'_>)> = cols
        .iter()
        .map(|c| {
            let view = TensorView::new(c.dtype, c.shape.clone(), &c.bytes)
                .expect("column byte length matches its shape");
            (c.name, view)
        })
        .collect();
    let info = HashMap::from([("format".to_string(), FORMAT_NAME.to_string())]);
    safetensors::serialize(tensors, Some(info)).expect("valid tensors serialize")
}
