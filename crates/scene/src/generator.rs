//! Seeded scene generation: every preset's sampler, one sample (or question) per index.

use std::path::PathBuf;
use std::sync::Arc;

use glam::{Quat, Vec3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::camera::Camera;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::iqtt::{IqttOptions, Question, ShapePool};
use crate::obj::load_objects_dir;
use crate::object::{Object, Placement};
use crate::preset::Preset;
use crate::room::Room;
use crate::sampling::{CameraSampling, LightSampling};
use crate::scene::Scene;
use crate::shading::{PointLight, ShadingConstants};
use crate::shape::{Category, Cone, Cuboid, Cylinder, Shape, Sphere, Torus, TriangleMesh};

/// Everything that determines a generated dataset; stored in its manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratorConfig {
    /// The scene family.
    pub preset: Preset,
    /// Image side, pixels.
    pub size_px: usize,
    /// Base seed; sample `i` uses the ChaCha8 stream `i` of this seed.
    pub seed: u64,
    /// Camera placement.
    pub camera: CameraSampling,
    /// Light placement and colours.
    pub lights: LightSampling,
    /// Material, ambient light and attenuation (paper Eq. 1).
    pub shading: ShadingConstants,
    /// Colour of pixels whose ray hits nothing.
    pub background: Vec3,
    /// A folder of user OBJ meshes, one subfolder per category, replacing the procedural
    /// ShapeNet-like objects.
    pub objects_dir: Option<PathBuf>,
    /// 3D-IQTT options (used by the `iqtt` preset).
    pub iqtt: IqttOptions,
}

/// Largest image side, pixels: one image then takes about 1.9 GB (29 bytes per pixel), and
/// sizes and byte counts stay far from overflowing.
pub const MAX_SIZE_PX: usize = 8192;

impl GeneratorConfig {
    /// The defaults of `preset` at `size_px` with `seed`: the room scenes use the
    /// positive-octant camera patch and lights of paper Appendix B; `iqtt` floats its shapes in empty
    /// space on a dark background, with cameras anywhere on the sphere and coloured lights.
    pub fn new(preset: Preset, size_px: usize, seed: u64) -> Self {
        let mut config = Self {
            preset,
            size_px,
            seed,
            camera: CameraSampling::default(),
            lights: LightSampling::default(),
            shading: ShadingConstants::default(),
            background: Vec3::ZERO,
            objects_dir: None,
            iqtt: IqttOptions::default(),
        };
        if preset == Preset::Iqtt {
            config.camera.look_at = Vec3::ZERO;
            config.camera.full_sphere = true;
            config.lights.random_colors = true;
            config.lights.total_intensity = 0.7;
            config.shading.ambient = Vec3::splat(0.08);
        }
        config
    }

    /// Checks every setting, naming the offending one.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming the field and value.
    pub fn validate(&self) -> Result<()> {
        if !(8..=MAX_SIZE_PX).contains(&self.size_px) || !self.size_px.is_multiple_of(2) {
            return Err(Error::InvalidValue {
                field: "size".into(),
                message: format!(
                    "must be an even number of pixels from 8 to {MAX_SIZE_PX}, got {}",
                    self.size_px
                ),
            });
        }
        self.camera.validate()?;
        self.lights.validate()?;
        if self.preset == Preset::Iqtt {
            self.iqtt.validate()?;
        }
        Ok(())
    }
}

/// One rendered view with everything known about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Image and ground truth.
    pub frame: Frame,
    /// The camera.
    pub camera: Camera,
    /// Point lights, world frame.
    pub lights: Vec<PointLight>,
    /// The same lights in the camera frame (what the surfel renderer takes).
    pub lights_cam: Vec<PointLight>,
    /// Class label (index into the manifest's `classes`) for `shapenet-like` scenes.
    pub class: Option<u32>,
}

/// What one index of a dataset holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// A single view (every preset but `iqtt`).
    View(Sample),
    /// A 3D-IQTT question.
    Question(Box<Question>),
}

/// The objects a generator draws from, built once.
#[derive(Debug)]
pub(crate) struct Assets {
    teapot: Arc<TriangleMesh>,
    /// Category names and mesh variants per category.
    categories: Vec<(String, Vec<Arc<TriangleMesh>>)>,
    /// Distinct 3D-IQTT shapes and their meshes (empty for the other presets).
    pub(crate) iqtt_pool: ShapePool,
}

/// Variants built per procedural ShapeNet-like category.
const VARIANTS_PER_CATEGORY: usize = 8;

/// Draws scenes of one preset: `record(i)` is a pure function of the config and `i`.
#[derive(Debug)]
pub struct Generator {
    pub(crate) config: GeneratorConfig,
    pub(crate) assets: Assets,
}

impl Generator {
    /// Builds the generator: validates the config, tessellates the built-in meshes, loads the
    /// user's OBJ folder if any, and draws the 3D-IQTT shape pool.
    ///
    /// # Errors
    /// An invalid config, or an unreadable or malformed OBJ file.
    pub fn new(config: GeneratorConfig) -> Result<Self> {
        config.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        rng.set_stream(u64::MAX);
        let categories = match &config.objects_dir {
            Some(dir) => load_objects_dir(dir)?
                .into_iter()
                .map(|(name, meshes)| (name, meshes.into_iter().map(|(_, m)| m).collect()))
                .collect(),
            None => Category::ALL
                .iter()
                .map(|c| {
                    let variants = (0..VARIANTS_PER_CATEGORY)
                        .map(|_| Arc::new(c.build(&mut rng)))
                        .collect();
                    (c.name().to_string(), variants)
                })
                .collect(),
        };
        let iqtt_pool = if config.preset == Preset::Iqtt {
            ShapePool::draw(&config.iqtt, &mut rng)?
        } else {
            ShapePool::default()
        };
        Ok(Self {
            assets: Assets {
                teapot: Arc::new(TriangleMesh::teapot(8)),
                categories,
                iqtt_pool,
            },
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &GeneratorConfig {
        &self.config
    }

    /// Class names, in label order (the ShapeNet-like categories or the user's subfolders).
    pub fn classes(&self) -> Vec<String> {
        self.assets
            .categories
            .iter()
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// The random stream of record `index`.
    pub(crate) fn rng(&self, index: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        rng.set_stream(index);
        rng
    }

    /// Record `index`: a view, or a question for `iqtt`.
    pub fn record(&self, index: u64) -> Record {
        match self.config.preset {
            Preset::Iqtt => Record::Question(Box::new(self.question(index))),
            _ => Record::View(self.sample(index)),
        }
    }

    /// View `index` of a room preset.
    ///
    /// # Panics
    /// For the `iqtt` preset, whose records are [`Question`]s (use [`Generator::record`]).
    pub fn sample(&self, index: u64) -> Sample {
        self.relit(index, 0)
    }

    /// View `index` of a room preset under lighting `lighting`: the same room, objects and
    /// camera as [`Generator::sample`] (so the same depth, normals and mask), with lights drawn
    /// afresh from the same distribution for each `lighting > 0`; `lighting = 0` is
    /// [`Generator::sample`] itself.
    ///
    /// # Panics
    /// For the `iqtt` preset, whose records are [`Question`]s (use [`Generator::record`]).
    pub fn relit(&self, index: u64, lighting: u64) -> Sample {
        let (scene, class) = self.relit_scene(index, lighting);
        self.view(scene, class)
    }

    /// The scene that [`Generator::sample`] ray-traces for record `index` of a room preset:
    /// room, objects, camera, lights and shading, so that it can be rendered again from other
    /// cameras (view extrapolation, paper Table 2). `scene(i).render(size_px)` is
    /// `sample(i).frame`, bit for bit.
    ///
    /// # Panics
    /// For the `iqtt` preset, whose records are [`Question`]s.
    pub fn scene(&self, index: u64) -> Scene {
        self.relit_scene(index, 0).0
    }

    /// The scene of [`Generator::relit`] and its class label.
    fn relit_scene(&self, index: u64, lighting: u64) -> (Scene, Option<u32>) {
        let mut rng = self.rng(index);
        let (objects, class) = match self.config.preset {
            Preset::Boxes => (vec![self.random_box(&mut rng, false)], None),
            Preset::BoxesRot => (vec![self.random_box(&mut rng, true)], None),
            Preset::Shapes => {
                let shape = self.random_basic_shape(&mut rng);
                (vec![self.stand(&mut rng, shape, 0.08, None)], None)
            }
            Preset::MultiShapes => (self.random_objects(&mut rng), None),
            Preset::ShapenetLike => {
                let (class, mesh) = self.random_category_mesh(&mut rng);
                (
                    vec![self.stand(&mut rng, Shape::Mesh(mesh), 0.09, None)],
                    Some(class),
                )
            }
            Preset::Iqtt => panic!("iqtt records are questions; use Generator::record"),
        };
        let camera = self.config.camera.sample(&mut rng);
        if lighting > 0 {
            // Another seed, the same stream: lighting `l` of scene `i` never shares its
            // numbers with any scene's own lighting.
            rng = ChaCha8Rng::seed_from_u64(
                self.config.seed ^ lighting.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            rng.set_stream(index);
        }
        let lights = self
            .config
            .lights
            .sample(&mut rng, self.config.camera.look_at);
        (
            self.scene_of(Some(Room::default()), objects, camera, lights),
            class,
        )
    }

    /// Ray-traces `scene` into a [`Sample`].
    pub(crate) fn view(&self, scene: Scene, class: Option<u32>) -> Sample {
        Sample {
            frame: scene.render(self.config.size_px),
            lights_cam: scene.lights_in_camera_frame(),
            camera: scene.camera,
            lights: scene.lights,
            class,
        }
    }

    /// A scene with the config's shading constants and background.
    pub(crate) fn scene_of(
        &self,
        room: Option<Room>,
        objects: Vec<Object>,
        camera: Camera,
        lights: Vec<PointLight>,
    ) -> Scene {
        Scene {
            room,
            objects,
            camera,
            lights,
            shading: self.config.shading,
            background: self.config.background,
        }
    }

    fn random_box(&self, rng: &mut ChaCha8Rng, rotate: bool) -> Object {
        let half = rng.random_range(0.035..0.06);
        let shape = Shape::Cuboid(Cuboid {
            half_extents: Vec3::splat(half),
        });
        let yaw = rotate.then(|| rng.random_range(0.0..std::f32::consts::FRAC_PI_2));
        self.stand_scaled(rng, shape, 1.0, yaw.or(Some(0.0)), 0.08)
    }

    fn random_basic_shape(&self, rng: &mut ChaCha8Rng) -> Shape {
        match rng.random_range(0..6) {
            0 => Shape::Cuboid(Cuboid {
                half_extents: Vec3::new(
                    rng.random_range(0.5..1.0),
                    rng.random_range(0.5..1.0),
                    rng.random_range(0.5..1.0),
                ),
            }),
            1 => Shape::Sphere(Sphere { radius: 1.0 }),
            2 => Shape::Cone(Cone {
                radius: rng.random_range(0.6..1.0),
                half_height: rng.random_range(0.6..1.0),
            }),
            3 => Shape::Cylinder(Cylinder {
                radius: rng.random_range(0.5..0.9),
                half_height: rng.random_range(0.5..1.0),
            }),
            4 => Shape::Torus(Torus {
                major_radius: 1.0,
                minor_radius: rng.random_range(0.25..0.45),
            }),
            _ => Shape::Mesh(self.assets.teapot.clone()),
        }
    }

    fn random_category_mesh(&self, rng: &mut ChaCha8Rng) -> (u32, Arc<TriangleMesh>) {
        let class = rng.random_range(0..self.assets.categories.len());
        let variants = &self.assets.categories[class].1;
        let mesh = variants[rng.random_range(0..variants.len())].clone();
        (class as u32, mesh)
    }

    /// Scales `shape` to a random bounding radius around `radius`, turns it about the vertical
    /// and stands it on the floor near the look-at point.
    fn stand(
        &self,
        rng: &mut ChaCha8Rng,
        shape: Shape,
        radius: f32,
        spread: Option<f32>,
    ) -> Object {
        use crate::shape::Intersect;
        let target = radius * rng.random_range(0.75..1.15);
        let scale = target / shape.bounding_radius();
        let yaw = rng.random_range(0.0..std::f32::consts::TAU);
        self.stand_scaled(rng, shape, scale, Some(yaw), spread.unwrap_or(0.08))
    }

    fn stand_scaled(
        &self,
        rng: &mut ChaCha8Rng,
        shape: Shape,
        scale: f32,
        yaw: Option<f32>,
        spread: f32,
    ) -> Object {
        use crate::shape::Intersect;
        let c = self.config.camera.look_at;
        let x = c.x + rng.random_range(-spread..spread);
        let z = c.z + rng.random_range(-spread..spread);
        let y = -shape.min_y() * scale;
        Object::new(
            shape,
            Placement {
                rotation: Quat::from_rotation_y(yaw.unwrap_or(0.0)),
                translation: Vec3::new(x, y, z),
                scale,
            },
        )
    }

    /// Two to five objects that do not overlap on the floor.
    fn random_objects(&self, rng: &mut ChaCha8Rng) -> Vec<Object> {
        use crate::shape::Intersect;
        let want = rng.random_range(2..=5);
        let mut objects: Vec<Object> = Vec::with_capacity(want);
        let mut tries = 0;
        while objects.len() < want && tries < 100 {
            tries += 1;
            let shape = if rng.random_bool(0.5) {
                self.random_basic_shape(rng)
            } else {
                Shape::Mesh(self.random_category_mesh(rng).1)
            };
            let candidate = self.stand(rng, shape, 0.055, Some(0.13));
            let r = candidate.shape().bounding_radius() * candidate.placement().scale;
            let p = candidate.placement().translation;
            let clear = objects.iter().all(|o| {
                let q = o.placement().translation;
                let ro = o.shape().bounding_radius() * o.placement().scale;
                Vec3::new(p.x - q.x, 0.0, p.z - q.z).length() > r + ro
            });
            if clear {
                objects.push(candidate);
            }
        }
        objects
    }
}
