//! 3D-IQTT questions: a reference view and three answers, one of which shows the reference's
//! shape under another rotation and view (paper section 4.4, Fig. 10).

use std::sync::Arc;

use glam::Quat;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::generator::{Generator, Sample};
use crate::object::{Object, Placement};
use crate::polycube::Polycube;
use crate::preset::Preset;
use crate::sampling::random_rotation;
use crate::shading::PointLight;
use crate::shape::{Intersect, Shape, TriangleMesh};

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

/// A shape shown in a question: its id (see [`Question::shape_ids`]) and its mesh.
type Shown = (i64, Arc<TriangleMesh>);

impl Generator {
    /// The 3D-IQTT shape with id `id` as stored in [`Question::shape_ids`] (ids from the pool
    /// size on are mirror images), or `None` for an unknown id or a preset other than `iqtt`.
    pub fn iqtt_shape(&self, id: i64) -> Option<Polycube> {
        self.assets.iqtt_pool.by_id(id)
    }

    /// 3D-IQTT question `index`.
    ///
    /// Each view shows its shape at the look-at point under a uniformly random rotation, from
    /// a camera drawn anywhere on the sphere, lit by the same camera-relative lights (drawn
    /// once per question). The distractors follow [`crate::IqttOptions`].
    ///
    /// # Panics
    /// If the preset is not `iqtt`.
    pub fn question(&self, index: u64) -> Question {
        let options = &self.config.iqtt;
        let (mut rng, reference, distractors, answer) = self.question_plan(index);
        let mesh = &self.assets.iqtt_pool.get(reference).1;
        let original: Shown = (reference as i64, mesh.clone());
        let mut shown = distractors;
        shown.insert(answer as usize, original.clone());
        shown.insert(0, original);
        // Hard questions show one cube size throughout: the largest shape fills the radius.
        let common_radius = options.hard_distractors.then(|| {
            shown
                .iter()
                .map(|(_, m)| m.bounding_radius())
                .fold(0.0, f32::max)
        });
        let lights_rel = self.config.lights.sample_camera_relative(&mut rng);
        let mut shape_ids = [0i64; 4];
        let mut rotations = [Quat::IDENTITY; 4];
        let views: Vec<Sample> = shown
            .into_iter()
            .enumerate()
            .map(|(k, (id, mesh))| {
                let rotation = random_rotation(&mut rng);
                shape_ids[k] = id;
                rotations[k] = rotation;
                let radius = common_radius.unwrap_or_else(|| mesh.bounding_radius());
                let object = Object::new(
                    Shape::Mesh(mesh),
                    Placement {
                        rotation,
                        translation: self.config.camera.look_at,
                        scale: options.object_radius / radius,
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
                self.view(self.scene_of(None, vec![object], camera, lights), None)
            })
            .collect();
        Question {
            views: views.try_into().expect("four views"),
            answer,
            shape_ids,
            rotations,
        }
    }

    /// The correct answer (0, 1 or 2) of question `index`, as [`Generator::question`] has it,
    /// without rendering its views: what scoring an answers file needs.
    ///
    /// # Panics
    /// If the preset is not `iqtt`.
    pub fn question_answer(&self, index: u64) -> u8 {
        self.question_plan(index).3
    }

    /// The draws of question `index` before its views: the generator's random stream at that
    /// point, the reference's pool index, the distractors and the answer's position.
    fn question_plan(&self, index: u64) -> (ChaCha8Rng, usize, Vec<Shown>, u8) {
        assert_eq!(
            self.config.preset,
            Preset::Iqtt,
            "questions need the iqtt preset"
        );
        let mut rng = self.rng(index);
        let (reference, distractors) = if self.config.iqtt.hard_distractors {
            self.hard_distractors(&mut rng)
        } else {
            let reference = rng.random_range(0..self.assets.iqtt_pool.len());
            (reference, self.any_size_distractors(&mut rng, reference))
        };
        let answer = rng.random_range(0..3u8);
        (rng, reference, distractors, answer)
    }

    /// The paper-like distractors: the reference's mirror image if asked for and the reference
    /// is chiral, then other pool shapes of any size, uniformly.
    fn any_size_distractors(&self, rng: &mut ChaCha8Rng, reference: usize) -> Vec<Shown> {
        let pool = &self.assets.iqtt_pool;
        let mut distractors = Vec::with_capacity(2);
        if self.config.iqtt.mirror_distractor {
            distractors.extend(mirror_image(pool.len(), reference, &pool.get(reference).0));
        }
        while distractors.len() < 2 {
            let k = rng.random_range(0..pool.len());
            if k != reference && distractors.iter().all(|(id, _)| *id != k as i64) {
                distractors.push((k as i64, pool.get(k).1.clone()));
            }
        }
        distractors
    }

    /// A hard question's reference and distractors: a chiral pool shape, its mirror image and
    /// a foil of its size with the closest bounding box ([`ShapePool::matched_foil`]), the two
    /// distractors in random order (were the mirror image always first, a model that told the
    /// foil from the other two would know the answer whenever the foil came second).
    ///
    /// [`ShapePool::matched_foil`]: super::ShapePool::matched_foil
    fn hard_distractors(&self, rng: &mut ChaCha8Rng) -> (usize, Vec<Shown>) {
        let pool = &self.assets.iqtt_pool;
        let chiral = pool.chiral();
        let reference = chiral[rng.random_range(0..chiral.len())];
        let mirror = mirror_image(pool.len(), reference, &pool.get(reference).0)
            .expect("hard references are chiral");
        let k = pool.matched_foil(reference, rng);
        let mut distractors = vec![mirror, (k as i64, pool.get(k).1.clone())];
        if rng.random_bool(0.5) {
            distractors.swap(0, 1);
        }
        (reference, distractors)
    }
}

/// The mirror image of pool shape `reference` (`shape`) with its id, or `None` when the shape
/// is achiral (its mirror image would be a correct answer).
fn mirror_image(pool_len: usize, reference: usize, shape: &Polycube) -> Option<Shown> {
    (!shape.is_achiral()).then(|| {
        let mesh = TriangleMesh::polycube(shape.mirrored().cells());
        ((pool_len + reference) as i64, Arc::new(mesh))
    })
}
