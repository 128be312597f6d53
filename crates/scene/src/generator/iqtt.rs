//! 3D-IQTT questions (paper section 4.1): a reference view of a polycube "snake" and three
//! answers, one of them the same shape under another rotation and view.

use std::sync::Arc;

use glam::Quat;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{Generator, Sample};
use crate::object::{Object, Placement};
use crate::polycube::Polycube;
use crate::preset::Preset;
use crate::sampling::random_rotation;
use crate::shading::PointLight;
use crate::shape::{Shape, TriangleMesh};

/// Options of the 3D-IQTT question generator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IqttOptions {
    /// Fewest unit cubes in a shape.
    pub cubes_min: usize,
    /// Most unit cubes in a shape.
    pub cubes_max: usize,
    /// Number of distinct shapes questions are drawn from.
    pub pool_size: usize,
    /// Make one distractor the reference's mirror image (the Shepard–Metzler variant).
    pub mirror_distractor: bool,
    /// Bounding radius every shape is scaled to, scene units.
    pub object_radius: f32,
}

impl Default for IqttOptions {
    fn default() -> Self {
        Self {
            cubes_min: 11,
            cubes_max: 15,
            pool_size: 1000,
            mirror_distractor: false,
            object_radius: 0.2,
        }
    }
}

/// A 3D-IQTT question: a reference view and three answers, one of which shows the reference's
/// shape under another rotation and view.
#[derive(Clone, Debug, PartialEq)]
pub struct Question {
    /// Reference, then answers 1–3.
    pub views: [Sample; 4],
    /// Index of the correct answer among the three answers (0, 1 or 2); the correct view is
    /// `views[answer + 1]`.
    pub answer: u8,
    /// Shape id shown in each view (index into the shape pool; a mirror image of shape `k` has
    /// id `pool_size + k`).
    pub shape_ids: [i64; 4],
    /// Rotation of the shape in each view, world frame.
    pub rotations: [Quat; 4],
}

impl Generator {
    /// The 3D-IQTT shape with id `id` as stored in `shape_id` (ids from the pool size on are
    /// mirror images), or `None` for an unknown id or a preset other than `iqtt`.
    pub fn iqtt_shape(&self, id: i64) -> Option<Polycube> {
        let n = self.assets.iqtt_pool.len() as i64;
        match id {
            _ if (0..n).contains(&id) => Some(self.assets.iqtt_pool[id as usize].0.clone()),
            _ if (n..2 * n).contains(&id) => {
                Some(self.assets.iqtt_pool[(id - n) as usize].0.mirrored())
            }
            _ => None,
        }
    }

    /// 3D-IQTT question `index`.
    ///
    /// # Panics
    /// If the preset is not `iqtt`.
    pub fn question(&self, index: u64) -> Question {
        assert_eq!(
            self.config.preset,
            Preset::Iqtt,
            "questions need the iqtt preset"
        );
        let mut rng = self.rng(index);
        let pool = &self.assets.iqtt_pool;
        let n = pool.len();
        let reference = rng.random_range(0..n);
        let mut distractors: Vec<(i64, Arc<TriangleMesh>)> = Vec::with_capacity(2);
        if self.config.iqtt.mirror_distractor && !pool[reference].0.is_achiral() {
            let mirror = pool[reference].0.mirrored();
            distractors.push((
                (n + reference) as i64,
                Arc::new(TriangleMesh::polycube(mirror.cells())),
            ));
        }
        while distractors.len() < 2 {
            let k = rng.random_range(0..n);
            if k != reference && distractors.iter().all(|(id, _)| *id != k as i64) {
                distractors.push((k as i64, pool[k].1.clone()));
            }
        }
        let answer = rng.random_range(0..3u8);
        let mut shown: Vec<(i64, Arc<TriangleMesh>)> = distractors;
        shown.insert(
            answer as usize,
            (reference as i64, pool[reference].1.clone()),
        );
        shown.insert(0, (reference as i64, pool[reference].1.clone()));
        let lights_rel = self.config.lights.sample_camera_relative(&mut rng);
        let mut shape_ids = [0i64; 4];
        let mut rotations = [Quat::IDENTITY; 4];
        let views: Vec<Sample> = shown
            .into_iter()
            .enumerate()
            .map(|(k, (id, mesh))| {
                use crate::shape::Intersect;
                let rotation = random_rotation(&mut rng);
                shape_ids[k] = id;
                rotations[k] = rotation;
                let scale = self.config.iqtt.object_radius / mesh.bounding_radius();
                let object = Object::new(
                    Shape::Mesh(mesh),
                    Placement {
                        rotation,
                        translation: self.config.camera.look_at,
                        scale,
                    },
                );
                let camera = self.config.camera.sample(&mut rng);
                let cam_to_world = camera.world_to_camera_rotation().transpose();
                let lights = lights_rel
                    .iter()
                    .map(|l| PointLight {
                        position: camera.at + cam_to_world * l.position,
                        color: l.color,
                    })
                    .collect();
                self.render(None, vec![object], camera, lights, None)
            })
            .collect();
        Question {
            views: views.try_into().expect("four views"),
            answer,
            shape_ids,
            rotations,
        }
    }
}

/// Draws `pool_size` distinct snakes (distinct up to rotation and translation).
pub(super) fn pool(
    options: &IqttOptions,
    rng: &mut ChaCha8Rng,
) -> Vec<(Polycube, Arc<TriangleMesh>)> {
    let mut seen = std::collections::HashSet::new();
    let mut pool = Vec::with_capacity(options.pool_size);
    let mut attempts = 0usize;
    while pool.len() < options.pool_size && attempts < options.pool_size * 200 {
        attempts += 1;
        let count = rng.random_range(options.cubes_min..=options.cubes_max);
        if let Some(p) = Polycube::random_snake(rng, count)
            && seen.insert(p.clone())
        {
            let mesh = Arc::new(TriangleMesh::polycube(p.cells()));
            pool.push((p, mesh));
        }
    }
    pool
}
