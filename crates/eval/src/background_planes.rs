//! The planes behind a scene, fitted to one depth map and extended beyond it: what a turned
//! camera sees of the room where the input view saw nothing (`--post` at turned views).

use pix2scene_scene::Camera;
use pix2scene_scene::glam::{Mat3, Vec3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::points::PixelRays;

/// Candidate planes drawn per plane found.
const CANDIDATES: usize = 256;

/// Most planes fitted (a room's floor and two walls).
const MAX_PLANES: usize = 3;

/// Least share of a map's points on a background plane.
const MIN_SHARE: f32 = 0.01;

/// Most share of a map's points allowed behind a background plane (stray pixels).
const MAX_BEHIND: f32 = 0.01;

/// Largest |cos| of the angle between two background planes (they differ by more than 45°).
const MAX_COS: f32 = std::f32::consts::FRAC_1_SQRT_2;

/// Least-squares refits of a plane to the points within the tolerance of the last fit.
const REFITS: usize = 3;

/// A plane `normal · p = offset` (world frame, unit normal pointing to the side the input camera
/// saw it from).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plane {
    /// Unit normal, world frame, towards the front side.
    pub normal: Vec3,
    /// `normal · p` for the plane's points, scene units.
    pub offset: f32,
}

impl Plane {
    /// Signed distance of `p` from the plane, positive in front.
    fn distance(&self, p: Vec3) -> f32 {
        self.normal.dot(p) - self.offset
    }
}

/// The background planes of one depth map: up to three planes that carry many of its points
/// and have (almost) none behind them — the room's floor and walls, never the face of an
/// object in front of them.
///
/// # Fitting
/// A deterministic RANSAC: candidates through three points drawn (seeded) from the points not
/// yet explained; a point is on a plane within `tolerance` of its ray depth. The candidate with
/// the most such points wins if it carries at least 5 % of the map's points and at most 1 %
/// lie behind it by more than three tolerances; it is refitted by least squares to its points,
/// which are then set aside, and the search repeats for the next plane.
///
/// # Extending
/// [`BackgroundPlanes::cast`] treats the planes as the walls of a convex room seen from inside,
/// one-sided as the ray tracer's (a plane seen from behind is invisible): a ray's depth is its
/// nearest crossing of a plane's front face that lies in front of every other plane.
#[derive(Clone, Debug, PartialEq)]
pub struct BackgroundPlanes {
    planes: Vec<Plane>,
}

impl BackgroundPlanes {
    /// The background planes of the `[size, size]` ray-depth map `depth` seen from `camera`
    /// with field of view `fov_y_deg`; points on a plane lie within `tolerance` (a fraction,
    /// e.g. 0.01) of their ray depth from it.
    ///
    /// # Panics
    /// If `depth` does not hold `size²` values.
    pub fn fit(
        depth: &[f32],
        camera: &Camera,
        fov_y_deg: f32,
        size: usize,
        tolerance: f32,
    ) -> Self {
        assert_eq!(depth.len(), size * size, "a depth map of {size}×{size}");
        let points: Vec<(Vec3, f32)> = PixelRays::new(fov_y_deg, size)
            .world_directions(camera)
            .into_iter()
            .zip(depth)
            .filter(|(_, d)| d.is_finite() && **d > 0.0)
            .map(|(dir, &d)| (camera.eye + dir * d, tolerance * d))
            .collect();
        let total = points.len();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut left: Vec<usize> = (0..total).collect();
        let mut planes = Vec::new();
        while planes.len() < MAX_PLANES && left.len() >= 3 {
            let on = |plane: &Plane, i: usize| plane.distance(points[i].0).abs() <= points[i].1;
            let background = |plane: &Plane| {
                let behind = points
                    .iter()
                    .filter(|(p, tol)| plane.distance(*p) < -3.0 * tol)
                    .count();
                behind as f32 <= MAX_BEHIND * total as f32
            };
            let mut best: Option<(usize, Plane)> = None;
            for _ in 0..CANDIDATES {
                let pick = [0; 3].map(|_| points[left[rng.random_range(0..left.len())]].0);
                let Some(plane) = through(pick, camera.eye) else {
                    continue;
                };
                let distinct = planes
                    .iter()
                    .all(|p: &Plane| p.normal.dot(plane.normal).abs() < MAX_COS);
                if !distinct {
                    continue;
                }
                let count = left.iter().filter(|&&i| on(&plane, i)).count();
                if best.is_none_or(|(c, _)| count > c) && background(&plane) {
                    best = Some((count, plane));
                }
            }
            let Some((count, mut plane)) = best else {
                break;
            };
            if (count as f32) < MIN_SHARE * total as f32 {
                break;
            }
            for _ in 0..REFITS {
                let inliers: Vec<Vec3> = left
                    .iter()
                    .filter(|&&i| on(&plane, i))
                    .map(|&i| points[i].0)
                    .collect();
                plane = least_squares(&inliers, plane.normal, camera.eye).unwrap_or(plane);
            }
            if !background(&plane) {
                break;
            }
            // The surface's stray points go with it, so that they cannot make a second plane.
            left.retain(|&i| plane.distance(points[i].0).abs() > 3.0 * points[i].1);
            planes.push(plane);
        }
        Self { planes }
    }

    /// The planes found, in the order they were found (most points first).
    pub fn planes(&self) -> &[Plane] {
        &self.planes
    }

    /// The planes' ray depth at every pixel of a `[size, size]` image from `camera` (field of
    /// view `fov_y_deg`), `f32::INFINITY` where a ray meets no plane's front face within
    /// `max_depth` (scene units).
    pub fn cast(&self, camera: &Camera, fov_y_deg: f32, size: usize, max_depth: f32) -> Vec<f32> {
        PixelRays::new(fov_y_deg, size)
            .world_directions(camera)
            .into_iter()
            .map(|dir| {
                let t = self.ray_depth(camera.eye, dir);
                if t <= max_depth { t } else { f32::INFINITY }
            })
            .collect()
    }

    /// The nearest front-face crossing along the ray `origin + t · dir` (`dir` unit) that lies
    /// in front of every other plane.
    fn ray_depth(&self, origin: Vec3, dir: Vec3) -> f32 {
        let mut best = f32::INFINITY;
        for (k, plane) in self.planes.iter().enumerate() {
            let facing = plane.normal.dot(dir);
            if facing >= 0.0 {
                continue;
            }
            let t = -plane.distance(origin) / facing;
            if !(t > 0.0 && t < best) {
                continue;
            }
            let hit = origin + dir * t;
            let inside = self
                .planes
                .iter()
                .enumerate()
                .all(|(j, other)| j == k || other.distance(hit) >= -1e-4 * t);
            if inside {
                best = t;
            }
        }
        best
    }
}

/// The plane through three points, its normal towards `eye`; `None` for (nearly) collinear
/// points.
fn through([a, b, c]: [Vec3; 3], eye: Vec3) -> Option<Plane> {
    let normal = (b - a).cross(c - a).try_normalize()?;
    Some(facing(normal, a, eye))
}

/// The plane with unit `normal` through `point`, turned to face `eye`.
fn facing(normal: Vec3, point: Vec3, eye: Vec3) -> Plane {
    let normal = if normal.dot(eye - point) < 0.0 {
        -normal
    } else {
        normal
    };
    Plane {
        normal,
        offset: normal.dot(point),
    }
}

/// The least-squares plane of `points` (through their centroid, normal the covariance's
/// eigenvector of least eigenvalue, found by power iteration from `guess`), facing `eye`;
/// `None` for fewer than three points.
fn least_squares(points: &[Vec3], guess: Vec3, eye: Vec3) -> Option<Plane> {
    if points.len() < 3 {
        return None;
    }
    let centroid = points.iter().copied().sum::<Vec3>() / points.len() as f32;
    let cov = points.iter().fold(Mat3::ZERO, |acc, p| {
        let d = *p - centroid;
        acc + Mat3::from_cols(d * d.x, d * d.y, d * d.z)
    });
    // Power iteration on (trace · I − cov), whose largest eigenvector is cov's smallest.
    let shifted =
        Mat3::from_diagonal(Vec3::splat(cov.x_axis.x + cov.y_axis.y + cov.z_axis.z)) - cov;
    let mut normal = guess;
    for _ in 0..100 {
        normal = (shifted * normal).try_normalize()?;
    }
    Some(facing(normal, centroid, eye))
}

#[cfg(test)]
mod tests {
    use pix2scene_scene::{Generator, GeneratorConfig, Preset};

    use pix2scene_scene::PixelGrid;

    use super::*;
    use crate::view::ViewExtrapolation;

    #[test]
    fn the_room_is_found_in_a_true_depth_map_and_never_a_box_face() {
        let size = 64;
        let config = GeneratorConfig::new(Preset::Boxes, size, 11);
        let fov = config.camera.fov_y_deg;
        let generator = Generator::new(config).unwrap();
        for index in 0..6 {
            let sample = generator.sample(index);
            let planes =
                BackgroundPlanes::fit(&sample.frame.depth, &sample.camera, fov, size, 0.01);
            assert!(!planes.planes().is_empty());
            assert_room_planes(&planes, 0.9999, 5e-3, index);
        }
    }

    /// Every plane is a room plane: a unit axis (its component above `axis_min`) through the
    /// origin (offset within `offset_max`; the camera is inside the room).
    fn assert_room_planes(planes: &BackgroundPlanes, axis_min: f32, offset_max: f32, index: u64) {
        for plane in planes.planes() {
            let axis = plane.normal.abs().max_position();
            assert!(
                plane.normal[axis] > axis_min && plane.offset.abs() < offset_max,
                "record {index}: {plane:?}"
            );
        }
    }

    #[test]
    fn a_noisy_map_still_gives_the_room() {
        // Each depth off by up to ±0.5 %, as a post-processed map's walls are.
        let size = 64;
        let config = GeneratorConfig::new(Preset::Shapes, size, 12);
        let fov = config.camera.fov_y_deg;
        let generator = Generator::new(config).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for index in 0..4 {
            let sample = generator.sample(index);
            let noisy: Vec<f32> = sample
                .frame
                .depth
                .iter()
                .map(|d| d * (1.0 + rng.random_range(-0.005..0.005)))
                .collect();
            let planes = BackgroundPlanes::fit(&noisy, &sample.camera, fov, size, 0.015);
            assert!(planes.planes().len() >= 2, "record {index}: {planes:?}");
            assert_room_planes(&planes, 0.999, 0.02, index);
        }
    }

    #[test]
    fn the_fitted_room_extended_is_the_room_a_turned_camera_sees() {
        let size = 64;
        let config = GeneratorConfig::new(Preset::Shapes, size, 5);
        let fov = config.camera.fov_y_deg;
        let views = ViewExtrapolation::new(config, vec![0.0, 80.0]).unwrap();
        let mut compared = 0;
        for index in 0..4 {
            let [input, turned] = <[_; 2]>::try_from(views.views(index)).unwrap();
            let planes = BackgroundPlanes::fit(&input.frame.depth, &input.camera, fov, size, 0.01);
            if planes.planes().len() < 3 {
                continue;
            }
            let cast = planes.cast(&turned.camera, fov, size, f32::INFINITY);
            let grid = PixelGrid::new(fov, size);
            let to_world = turned.camera.world_to_camera_rotation().transpose();
            for i in (0..size * size).filter(|&i| turned.frame.mask[i] != 0) {
                let t = turned.frame.depth[i];
                let hit = turned.camera.eye + to_world * grid.direction(i / size, i % size) * t;
                if hit.min_element().abs() < 1e-4 {
                    // The truth is on the room here (not an object): the planes agree.
                    assert!((cast[i] - t).abs() <= 1e-2 * t, "{} against {t}", cast[i]);
                    compared += 1;
                }
            }
        }
        assert!(
            compared > 2 * size * size,
            "{compared} room pixels compared"
        );
    }

    #[test]
    fn a_map_without_points_has_no_planes() {
        let camera = Camera {
            eye: Vec3::new(2.0, 1.0, 2.0),
            at: Vec3::ZERO,
            up: Vec3::Y,
            fov_y_deg: 30.0,
        };
        let planes = BackgroundPlanes::fit(&[f32::INFINITY; 16], &camera, 30.0, 4, 0.01);
        assert!(planes.planes().is_empty());
        assert!(
            planes
                .cast(&camera, 30.0, 4, 10.0)
                .iter()
                .all(|d| *d == f32::INFINITY)
        );
    }

    #[test]
    fn least_squares_finds_a_tilted_plane_from_a_poor_guess() {
        let normal = Vec3::new(1.0, -1.0, 0.0).normalize();
        let (u, v) = (Vec3::Z, Vec3::new(1.0, 1.0, 0.0).normalize());
        let points: Vec<Vec3> = (0..50)
            .map(|k| normal * 0.3 + u * (k % 7) as f32 * 0.1 + v * (k / 7) as f32 * 0.1)
            .collect();
        let eye = normal * 5.0;
        let plane = least_squares(&points, Vec3::new(1.0, 1.0, 1.0).normalize(), eye).unwrap();
        assert!(plane.normal.dot(normal) > 1.0 - 1e-5, "{plane:?}");
        assert!((plane.offset - 0.3).abs() < 1e-5, "{plane:?}");
    }
}
