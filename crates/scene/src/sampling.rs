//! Random camera and light placement (paper Appendix B).

use glam::{Quat, Vec3};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::camera::Camera;
use crate::error::{Error, Result};
use crate::shading::PointLight;

/// How camera positions are drawn.
///
/// Positions are area-uniform on a patch of the sphere of `radius_m` around `look_at`, with the
/// polar angle measured from +y; or on the whole sphere when `full_sphere` is set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraSampling {
    /// Point every camera looks at, world frame.
    pub look_at: Vec3,
    /// Distance from the look-at point, scene units.
    pub radius: f32,
    /// Polar angle range from +y, degrees.
    pub polar_deg: [f32; 2],
    /// Azimuth range in the xz plane from +x towards +z, degrees.
    pub azimuth_deg: [f32; 2],
    /// Vertical field of view, degrees.
    pub fov_y_deg: f32,
    /// Sample on the whole sphere instead of the patch.
    pub full_sphere: bool,
}

impl Default for CameraSampling {
    fn default() -> Self {
        Self {
            look_at: Vec3::new(0.25, 0.08, 0.25),
            radius: 0.8,
            polar_deg: [20.0, 80.0],
            azimuth_deg: [20.0, 70.0],
            fov_y_deg: 26.0,
            full_sphere: false,
        }
    }
}

/// A direction area-uniform on the spherical patch with the given polar (from +y) and azimuth
/// ranges, in degrees.
fn patch_direction(rng: &mut impl Rng, polar_deg: [f32; 2], azimuth_deg: [f32; 2]) -> Vec3 {
    let (c0, c1) = (
        polar_deg[1].to_radians().cos(),
        polar_deg[0].to_radians().cos(),
    );
    let cos_theta = if c1 > c0 {
        rng.random_range(c0..c1)
    } else {
        c0
    };
    let sin_theta = (1.0 - cos_theta * cos_theta).max(0.0).sqrt();
    let phi = if azimuth_deg[1] > azimuth_deg[0] {
        rng.random_range(azimuth_deg[0]..azimuth_deg[1])
            .to_radians()
    } else {
        azimuth_deg[0].to_radians()
    };
    Vec3::new(sin_theta * phi.cos(), cos_theta, sin_theta * phi.sin())
}

/// A uniformly random rotation (uniform on SO(3)).
pub fn random_rotation(rng: &mut impl Rng) -> Quat {
    // Shoemake's method.
    let (u1, u2, u3): (f32, f32, f32) = (rng.random(), rng.random(), rng.random());
    let tau = std::f32::consts::TAU;
    let (a, b) = ((1.0 - u1).sqrt(), u1.sqrt());
    Quat::from_xyzw(
        a * (tau * u2).sin(),
        a * (tau * u2).cos(),
        b * (tau * u3).sin(),
        b * (tau * u3).cos(),
    )
    .normalize()
}

impl CameraSampling {
    /// Checks the ranges, naming the offending field.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a non-positive radius or field of view, or reversed or
    /// out-of-range angle intervals.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, message: String| {
            Err(Error::InvalidValue {
                field: format!("camera.{field}"),
                message,
            })
        };
        if self.radius.is_nan() || self.radius <= 0.0 {
            return bad("radius", format!("must be positive, got {}", self.radius));
        }
        if self.fov_y_deg.is_nan() || self.fov_y_deg <= 0.0 || self.fov_y_deg >= 180.0 {
            return bad(
                "fov_y_deg",
                format!("must be in (0, 180), got {}", self.fov_y_deg),
            );
        }
        let [p0, p1] = self.polar_deg;
        if !(0.0 <= p0 && p0 <= p1 && p1 <= 180.0) {
            return bad(
                "polar_deg",
                format!("must satisfy 0 <= min <= max <= 180, got [{p0}, {p1}]"),
            );
        }
        let [a0, a1] = self.azimuth_deg;
        if a0 > a1 {
            return bad(
                "azimuth_deg",
                format!("min must not exceed max, got [{a0}, {a1}]"),
            );
        }
        Ok(())
    }

    /// Draws a camera.
    pub fn sample(&self, rng: &mut impl Rng) -> Camera {
        let dir = if self.full_sphere {
            patch_direction(rng, [0.0, 180.0], [0.0, 360.0])
        } else {
            patch_direction(rng, self.polar_deg, self.azimuth_deg)
        };
        // Up = +y, except near the poles of a full-sphere camera where it is ill-defined.
        let up = if dir.y.abs() > 0.99 { Vec3::Z } else { Vec3::Y };
        Camera {
            eye: self.look_at + dir * self.radius,
            at: self.look_at,
            up,
            fov_y_deg: self.fov_y_deg,
        }
    }
}

/// How point lights are drawn.
///
/// Positions are area-uniform on a spherical patch of `radius` around the look-at point (the
/// positive-octant patch of paper Appendix B). Colours are white unless `random_colors` or
/// `channel_colors` is set; each light's colour is scaled by `total_intensity / count` (with
/// `channel_colors`, each channel's one light has all of it), so images keep their brightness
/// whatever the number of lights.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LightSampling {
    /// Smallest number of lights (at least 1).
    pub count_min: usize,
    /// Largest number of lights (at most [`MAX_LIGHTS`]).
    pub count_max: usize,
    /// Distance of the lights from the look-at point, scene units.
    pub radius: f32,
    /// Polar angle range from +y, degrees.
    pub polar_deg: [f32; 2],
    /// Azimuth range, degrees.
    pub azimuth_deg: [f32; 2],
    /// Sum of the lights' intensities.
    pub total_intensity: f32,
    /// Draw a random hue per light instead of white.
    pub random_colors: bool,
    /// Light `i` pure red, green or blue (`i` = 0, 1, 2) with the whole `total_intensity`, so
    /// that each colour channel sees one light (colour photometric stereo: a pixel's three
    /// channels then pin its normal, where white light leaves it one equation). Needs exactly
    /// [`MAX_LIGHTS`] lights; excludes `random_colors`. Absent from older manifests (false).
    #[serde(default)]
    pub channel_colors: bool,
}

/// The largest number of point lights in a scene; datasets pad light arrays to this length with
/// zero-colour lights.
pub const MAX_LIGHTS: usize = 3;

impl Default for LightSampling {
    fn default() -> Self {
        Self {
            count_min: 1,
            count_max: 3,
            radius: 0.7,
            polar_deg: [10.0, 70.0],
            azimuth_deg: [0.0, 90.0],
            total_intensity: 0.7,
            random_colors: false,
            channel_colors: false,
        }
    }
}

impl LightSampling {
    /// Checks the ranges, naming the offending field.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for counts outside `1..=MAX_LIGHTS`, a non-positive radius or
    /// intensity, reversed angle intervals, or `channel_colors` with another count than
    /// [`MAX_LIGHTS`] or with `random_colors`.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, message: String| {
            Err(Error::InvalidValue {
                field: format!("lights.{field}"),
                message,
            })
        };
        if !(1 <= self.count_min
            && self.count_min <= self.count_max
            && self.count_max <= MAX_LIGHTS)
        {
            return bad(
                "count",
                format!(
                    "must satisfy 1 <= min <= max <= {MAX_LIGHTS}, got {}..={}",
                    self.count_min, self.count_max
                ),
            );
        }
        if self.radius.is_nan() || self.radius <= 0.0 {
            return bad("radius", format!("must be positive, got {}", self.radius));
        }
        if self.total_intensity.is_nan() || self.total_intensity <= 0.0 {
            return bad(
                "total_intensity",
                format!("must be positive, got {}", self.total_intensity),
            );
        }
        if self.polar_deg[0] > self.polar_deg[1] || self.azimuth_deg[0] > self.azimuth_deg[1] {
            return bad("polar_deg", "min must not exceed max".into());
        }
        if self.channel_colors && (self.count_min, self.count_max) != (MAX_LIGHTS, MAX_LIGHTS) {
            return bad(
                "channel_colors",
                format!(
                    "needs exactly {MAX_LIGHTS} lights (one per colour channel), got {}..={}",
                    self.count_min, self.count_max
                ),
            );
        }
        if self.channel_colors && self.random_colors {
            return bad(
                "channel_colors",
                "excludes random colours (each light is pure red, green or blue)".into(),
            );
        }
        Ok(())
    }

    /// Draws the lights' world positions around `centre`, and colours.
    pub fn sample(&self, rng: &mut impl Rng, centre: Vec3) -> Vec<PointLight> {
        let count = rng.random_range(self.count_min..=self.count_max);
        (0..count)
            .map(|i| {
                let dir = patch_direction(rng, self.polar_deg, self.azimuth_deg);
                PointLight {
                    position: centre + dir * self.radius,
                    color: self.sample_color(rng, count, i),
                }
            })
            .collect()
    }

    /// Draws lights fixed relative to a camera (for views of an object from anywhere, as in
    /// 3D-IQTT): directions on the hemisphere facing the scene from the camera's side, expressed
    /// in the camera frame, at distance `radius` from the look-at point.
    pub fn sample_camera_relative(&self, rng: &mut impl Rng) -> Vec<PointLight> {
        let count = rng.random_range(self.count_min..=self.count_max);
        (0..count)
            .map(|i| {
                // Polar angle from the camera's +z (pointing from the look-at point to the
                // camera) within 70 degrees, so every light sits on the camera's side.
                let d = patch_direction(rng, [0.0, 70.0], [0.0, 360.0]);
                PointLight {
                    position: Vec3::new(d.x, d.z, d.y) * self.radius,
                    color: self.sample_color(rng, count, i),
                }
            })
            .collect()
    }

    /// The colour of light `index` of `count`.
    fn sample_color(&self, rng: &mut impl Rng, count: usize, index: usize) -> Vec3 {
        let scale = self.total_intensity / count as f32;
        if self.channel_colors {
            let mut c = Vec3::ZERO;
            c[index % 3] = self.total_intensity;
            c
        } else if self.random_colors {
            let c = Vec3::new(
                rng.random_range(0.15..1.0),
                rng.random_range(0.15..1.0),
                rng.random_range(0.15..1.0),
            );
            c * (3.0 / c.element_sum()) * scale
        } else {
            Vec3::splat(scale)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn cameras_lie_on_the_patch_and_look_at_the_target() {
        let s = CameraSampling::default();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut mean_cos = 0.0;
        let n = 4000;
        for _ in 0..n {
            let c = s.sample(&mut rng);
            let d = c.eye - s.look_at;
            assert!((d.length() - 0.8).abs() < 1e-5);
            let polar = (d.y / d.length()).acos().to_degrees();
            assert!((20.0 - 1e-3..=80.0 + 1e-3).contains(&polar));
            let az = d.z.atan2(d.x).to_degrees();
            assert!((20.0 - 1e-3..=70.0 + 1e-3).contains(&az));
            mean_cos += d.y / d.length();
        }
        // Area-uniform: cos(polar) is uniform on [cos 80°, cos 20°], so its mean is the midpoint.
        let expect = (80f32.to_radians().cos() + 20f32.to_radians().cos()) / 2.0;
        assert!((mean_cos / n as f32 - expect).abs() < 0.01);
    }

    #[test]
    fn random_rotations_are_unit_and_spread() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut mean = Vec3::ZERO;
        for _ in 0..5000 {
            let q = random_rotation(&mut rng);
            assert!((q.length() - 1.0).abs() < 1e-5);
            mean += q * Vec3::X;
        }
        assert!((mean / 5000.0).length() < 0.05, "rotated axes not uniform");
    }

    #[test]
    fn light_counts_and_intensity_follow_the_settings() {
        let s = LightSampling {
            random_colors: true,
            ..LightSampling::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut seen = [false; 4];
        for _ in 0..200 {
            let l = s.sample(&mut rng, Vec3::ZERO);
            seen[l.len()] = true;
            let total: f32 = l.iter().map(|l| l.color.element_sum() / 3.0).sum();
            assert!((total - 0.7).abs() < 1e-4);
        }
        assert_eq!(seen, [false, true, true, true]);
    }

    #[test]
    fn channel_colours_give_one_light_per_channel() {
        let s = LightSampling {
            count_min: MAX_LIGHTS,
            channel_colors: true,
            ..LightSampling::default()
        };
        s.validate().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let colours: Vec<Vec3> = s
            .sample(&mut rng, Vec3::ZERO)
            .iter()
            .chain(&s.sample_camera_relative(&mut rng))
            .map(|l| l.color)
            .collect();
        let (r, g, b) = (Vec3::X * 0.7, Vec3::Y * 0.7, Vec3::Z * 0.7);
        assert_eq!(colours, [r, g, b, r, g, b]);
    }

    #[test]
    fn light_settings_without_channel_colours_still_parse() {
        let mut json = serde_json::to_value(LightSampling::default()).unwrap();
        json.as_object_mut()
            .unwrap()
            .remove("channel_colors")
            .unwrap();
        let parsed: LightSampling = serde_json::from_value(json).unwrap();
        assert_eq!(parsed, LightSampling::default());
    }

    #[test]
    fn channel_colours_reject_other_counts_and_random_hues() {
        let s = LightSampling {
            channel_colors: true,
            ..LightSampling::default()
        };
        assert_eq!(
            s.validate().unwrap_err().to_string(),
            "lights.channel_colors: needs exactly 3 lights (one per colour channel), got 1..=3"
        );
        let s = LightSampling {
            count_min: MAX_LIGHTS,
            random_colors: true,
            ..s
        };
        assert_eq!(
            s.validate().unwrap_err().to_string(),
            "lights.channel_colors: excludes random colours (each light is pure red, green or blue)"
        );
    }
}
