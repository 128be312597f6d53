//! View extrapolation (paper Table 2): the camera turned about the look-at point, and the
//! ground truth ray-traced from the turned camera.
//!
//! # Protocol
//!
//! A record's camera is turned by θ (0°, 35°, 55°, 80° in the paper) about the **vertical axis
//! through its look-at point**: it keeps its height, its distance to the look-at point and its
//! up vector (+y), and still looks at the same point, so the scene stays centred and upright.
//!
//! The room has walls only at `x = 0` and `z = 0`, and the cameras of the room presets sit on
//! a patch of azimuths 20°–70° around the look-at point near the room's corner, so turning
//! them far enough in either direction takes them behind a wall. Two rules keep every view
//! meaningful:
//!
//! 1. **Direction**: the camera turns the way that keeps it in front of both walls (`x ≥ 0`,
//!    `z ≥ 0`) for the larger angle ([`orbit_sign`]) — towards the middle of the room, so a
//!    camera at azimuth 20° turns towards the wall `x = 0` and one at 70° towards `z = 0`. With
//!    the default camera sampling no camera leaves the room at 35° or 55°, and about 43 % do at
//!    80° (those near the middle azimuth 45°); turning every camera the same way, 21 % would
//!    leave at 55° and 69 % at 80°.
//! 2. **Walls are one-sided**: the room's floor and walls are surfaces only from inside the
//!    room (the ray tracer culls their back faces, see [`pix2scene_scene::Room::intersect`]).
//!    A camera that does end up behind a wall sees through it onto the objects, the floor and
//!    the other wall, as a cut-away view — never a wall filling the image. (A two-sided wall
//!    would make those views score how well a model draws the back of a wall; one-sided walls
//!    keep them about the scene, at the price of counting a drawn wall back as an error.
//!    Rule 1 keeps such views to 80° turns of cameras near the middle azimuth.)
//!
//! The lights stay where they are in the world (their camera-frame positions change with the
//! camera), and the objects and room are those of the record: the dataset stores its generator
//! config, so a record's scene is regenerated from its index (`Generator::scene`) and
//! ray-traced again. At 0° the result is the dataset's own record, bit for bit
//! ([`ViewExtrapolation::check_record`] verifies it, catching datasets written by another
//! version of the generator).

use pix2scene_scene::glam::Vec3;
use pix2scene_scene::{Camera, Frame, Generator, GeneratorConfig, PointLight, Preset, Sample};

use crate::error::{Error, Result};

/// Largest view angle accepted, degrees (a half turn).
pub const MAX_VIEW_DEG: f32 = 180.0;

/// The paper's view angles (Table 2), degrees.
pub const PAPER_VIEWS_DEG: [f32; 4] = [0.0, 35.0, 55.0, 80.0];

/// Parses a `--views` list: comma-separated angles in degrees, each in `[0, 180]`, no
/// repeats (`"0,35,55,80"`).
///
/// # Errors
/// [`Error::InvalidValue`] (field `--views`) for an empty list, a value that is not a number,
/// an angle out of range, or a repeated angle.
pub fn parse_views(text: &str) -> Result<Vec<f32>> {
    let bad = |message: String| Error::InvalidValue {
        field: "--views".into(),
        message,
    };
    let mut views: Vec<f32> = Vec::new();
    for item in text.split(',').map(str::trim) {
        let angle: f32 = item
            .parse()
            .map_err(|_| bad(format!("{item:?} is not an angle in degrees")))?;
        if !(0.0..=MAX_VIEW_DEG).contains(&angle) {
            return Err(bad(format!(
                "angle {angle} is out of range (0 to {MAX_VIEW_DEG} degrees)"
            )));
        }
        if views.contains(&angle) {
            return Err(bad(format!("angle {angle} is given twice")));
        }
        views.push(angle);
    }
    Ok(views)
}

/// The direction (+1 or −1, the sign of the angle given to [`Camera::orbit_y`]) in which
/// `camera` stays in front of both walls of the room (`x ≥ 0` and `z ≥ 0`) for the larger
/// angle when turned about the vertical axis through its look-at point; +1 on a tie and for a
/// camera that never reaches a wall.
pub fn orbit_sign(camera: &Camera) -> f32 {
    use std::f32::consts::PI;
    let (at, offset) = (camera.at, camera.eye - camera.at);
    let rho = Vec3::new(offset.x, 0.0, offset.z).length();
    // The azimuth φ (from +x towards +z) of a camera at horizontal distance ρ from the look-at
    // point is in front of the wall x = 0 while cos φ ≥ −at.x/ρ, and of the wall z = 0 while
    // sin φ ≥ −at.z/ρ: the arc [lo, hi] of the constraints that can be violated.
    let (hits_x, hits_z) = (rho > at.x, rho > at.z);
    let (lo, hi) = match (hits_x, hits_z) {
        (false, false) => return 1.0,
        (true, true) => (-(at.z / rho).asin(), PI - (at.x / rho).acos()),
        (true, false) => (-(PI - (at.x / rho).acos()), PI - (at.x / rho).acos()),
        (false, true) => (-(at.z / rho).asin(), PI + (at.z / rho).asin()),
    };
    // The camera's azimuth, unwrapped into [lo, lo + 2π).
    let azimuth = lo + (offset.z.atan2(offset.x) - lo).rem_euclid(2.0 * PI);
    // glam's rotation about +y by a positive angle decreases the azimuth.
    if hi - azimuth > azimuth - lo {
        -1.0
    } else {
        1.0
    }
}

/// `camera` turned by `angle_deg` about the vertical axis through its look-at point, in the
/// direction of [`orbit_sign`]; the camera itself, unchanged, at 0°.
///
/// # Units and frames
/// World frame; `angle_deg` in degrees.
pub fn orbit_camera(camera: &Camera, angle_deg: f32) -> Camera {
    if angle_deg == 0.0 {
        return *camera;
    }
    camera.orbit_y(orbit_sign(camera) * angle_deg.to_radians())
}

/// One view of a record's scene: the turned camera and the ground truth seen from it.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewTruth {
    /// View angle, degrees.
    pub angle_deg: f32,
    /// The turned camera (its `eye` is what the decoder is conditioned on).
    pub camera: Camera,
    /// Ray-traced image, depth, normals and mask from that camera.
    pub frame: Frame,
    /// The scene's lights in that camera's frame (what the surfel renderer takes).
    pub lights_cam: Vec<PointLight>,
}

/// The ground truth of a dataset's records at other views, regenerated from its generator
/// config (see the module's [protocol](self#protocol)).
#[derive(Debug)]
pub struct ViewExtrapolation {
    generator: Generator,
    angles_deg: Vec<f32>,
}

impl ViewExtrapolation {
    /// The views `angles_deg` of the scenes that `config` generates (a dataset manifest's
    /// `config`).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for the `iqtt` preset (its records are questions without a
    /// room) or an angle outside `[0, 180]`; the generator's errors (an invalid config, an
    /// unreadable OBJ folder).
    pub fn new(config: GeneratorConfig, angles_deg: Vec<f32>) -> Result<Self> {
        if config.preset == Preset::Iqtt {
            return Err(Error::InvalidValue {
                field: "preset".into(),
                message: "iqtt datasets hold 3D-IQTT questions, not views of rooms; view \
                          extrapolation needs a room preset"
                    .into(),
            });
        }
        if let Some(a) = angles_deg
            .iter()
            .find(|a| !(0.0..=MAX_VIEW_DEG).contains(*a))
        {
            return Err(Error::InvalidValue {
                field: "--views".into(),
                message: format!("angle {a} is out of range (0 to {MAX_VIEW_DEG} degrees)"),
            });
        }
        Ok(Self {
            generator: Generator::new(config)?,
            angles_deg,
        })
    }

    /// The view angles, degrees, in order.
    pub fn angles_deg(&self) -> &[f32] {
        &self.angles_deg
    }

    /// The generator the scenes are regenerated with.
    pub fn generator(&self) -> &Generator {
        &self.generator
    }

    /// Record `index` seen at every view angle, in order.
    pub fn views(&self, index: u64) -> Vec<ViewTruth> {
        let mut scene = self.generator.scene(index);
        let camera = scene.camera;
        self.angles_deg
            .iter()
            .map(|&angle_deg| {
                scene.camera = orbit_camera(&camera, angle_deg);
                ViewTruth {
                    angle_deg,
                    camera: scene.camera,
                    frame: scene.render(self.generator.config().size_px),
                    lights_cam: scene.lights_in_camera_frame(),
                }
            })
            .collect()
    }

    /// Checks that the scene regenerated for record `index` is the one `stored` shows: the
    /// same camera, and the same depth map when ray-traced again (one render).
    ///
    /// # Errors
    /// [`Error::StaleDataset`] naming what differs.
    pub fn check_record(&self, index: u64, stored: &Sample) -> Result<()> {
        let scene = self.generator.scene(index);
        if scene.camera != stored.camera {
            return Err(Error::StaleDataset {
                index,
                what: "camera",
            });
        }
        if scene.render(self.generator.config().size_px).depth != stored.frame.depth {
            return Err(Error::StaleDataset {
                index,
                what: "depth",
            });
        }
        Ok(())
    }
}
