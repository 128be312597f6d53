//! Carrying a depth map seen from one camera into another (`--post` at turned views): the
//! input view's map as a triangle mesh ray-cast from the turned camera, the background planes
//! fitted to it where the mesh does not reach, and the model's own decoding of the turned view
//! where neither does.

use pix2scene_scene::Camera;
use pix2scene_scene::glam::Vec3;

use crate::background_planes::BackgroundPlanes;
use crate::error::{Error, Result};
use crate::points::PixelRays;

/// Farthest depth the background planes may give a turned view, as a multiple of the input
/// map's farthest depth (a plane fitted nearly along the rays would reach far beyond the room).
const PLANE_REACH: f32 = 1.5;

/// The warp of a depth map from a source camera into a target camera.
///
/// 1. **Mesh.** The source map's pixel-centre points are joined into two triangles per 2×2
///    block of pixels, except across a depth edge: a triangle is kept only where its three
///    depths lie within `continuity` of each other (relative to the smallest). Each target
///    pixel takes the ray depth of the nearest kept triangle its ray meets from the front (a
///    triangle the target camera sees from behind is culled: the source saw its other side).
/// 2. **Background planes.** Pixels no triangle covers take the depth of the source map's
///    [`BackgroundPlanes`] (fitted with `plane_tolerance`), extended as a room seen from
///    inside, up to 1.5 times the source map's farthest depth.
/// 3. **Fill.** Pixels neither reaches take the `fill` map's depth (the model's decoding).
///
/// [`ViewWarp::input`] fits the planes of a map once; [`WarpInput::view`] warps it into each
/// target camera.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ViewWarp {
    continuity: f32,
    plane_tolerance: f32,
}

impl Default for ViewWarp {
    /// Triangles across more than a 10 % depth step are dropped (edge snapping's range);
    /// points within 1.5 % of their depth of a plane are on it.
    fn default() -> Self {
        Self {
            continuity: 0.1,
            plane_tolerance: 0.015,
        }
    }
}

impl ViewWarp {
    /// A warp that keeps triangles whose depths lie within `continuity` (a positive fraction of
    /// the smallest) of each other, and fits background planes with `plane_tolerance` (a
    /// positive fraction of each point's depth).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a parameter that is not a positive finite number.
    pub fn new(continuity: f32, plane_tolerance: f32) -> Result<Self> {
        for (field, value) in [
            ("warp continuity", continuity),
            ("plane tolerance", plane_tolerance),
        ] {
            if !(value > 0.0 && value.is_finite()) {
                return Err(Error::InvalidValue {
                    field: field.into(),
                    message: format!("{value}: must be a positive fraction of the depth"),
                });
            }
        }
        Ok(Self {
            continuity,
            plane_tolerance,
        })
    }

    /// The fraction of depth beyond which neighbouring pixels are not joined.
    pub fn continuity(&self) -> f32 {
        self.continuity
    }

    /// The background planes' inlier tolerance, a fraction of each point's depth.
    pub fn plane_tolerance(&self) -> f32 {
        self.plane_tolerance
    }

    /// Prepares one `[size, size]` map `depth` seen from `source` (field of view `fov_y_deg`)
    /// for warping into other cameras: its background planes are fitted once here.
    ///
    /// # Shapes
    /// `depth`: `[size, size]`, row-major, ray depth in scene units (the distance from the
    /// camera centre along each pixel-centre ray); every target image is `size`² with the same
    /// field of view.
    ///
    /// # Panics
    /// If `depth` does not hold `size²` values.
    pub fn input<'a>(
        &self,
        depth: &'a [f32],
        source: &Camera,
        fov_y_deg: f32,
        size: usize,
    ) -> WarpInput<'a> {
        assert_eq!(depth.len(), size * size, "a depth map of {size}×{size}");
        WarpInput {
            continuity: self.continuity,
            depth,
            source: *source,
            fov_y_deg,
            size,
            planes: BackgroundPlanes::fit(depth, source, fov_y_deg, size, self.plane_tolerance),
            reach: PLANE_REACH * depth.iter().copied().fold(0.0, f32::max),
        }
    }
}

/// A depth map ready to be warped into other cameras by [`ViewWarp`] (its background planes
/// fitted).
#[derive(Clone, Debug)]
pub struct WarpInput<'a> {
    continuity: f32,
    depth: &'a [f32],
    source: Camera,
    fov_y_deg: f32,
    size: usize,
    planes: BackgroundPlanes,
    reach: f32,
}

impl WarpInput<'_> {
    /// The map seen from `target`: the mesh, then the background planes, then `fill`'s depth
    /// (`[size, size]`, ray depth).
    ///
    /// # Panics
    /// If `fill` does not hold `size²` values.
    pub fn view(&self, target: &Camera, fill: &[f32]) -> Vec<f32> {
        let size = self.size;
        assert_eq!(fill.len(), size * size, "a fill map of {size}×{size}");
        let background = self.planes.cast(target, self.fov_y_deg, size, self.reach);
        self.mesh(target)
            .into_iter()
            .zip(background)
            .zip(fill)
            .map(|((m, b), f)| [m, b].into_iter().find(|d| d.is_finite()).unwrap_or(*f))
            .collect()
    }

    /// Step 1 alone: the mesh's ray depth at each pixel of `target`, `f32::INFINITY` where no
    /// kept triangle covers it.
    pub fn mesh(&self, target: &Camera) -> Vec<f32> {
        let (depth, source, fov_y_deg, size) =
            (self.depth, &self.source, self.fov_y_deg, self.size);
        let rays = PixelRays::new(fov_y_deg, size);
        let tan = (fov_y_deg.to_radians() * 0.5).tan();
        // Source points in the target camera's frame.
        let to_target = target.world_to_camera_rotation();
        let points: Vec<Vec3> = rays
            .world_directions(source)
            .iter()
            .zip(depth)
            .map(|(dir, d)| to_target * (source.eye + *dir * *d - target.eye))
            .collect();
        // Continuous pixel coordinates (col, row) of a target-frame point; pixel centres at
        // integers. None behind or at the camera.
        let project = |p: Vec3| {
            (-p.z > 1e-4).then(|| {
                let (u, v) = (p.x / -p.z / tan, p.y / -p.z / tan);
                let s = size as f32;
                ((u + 1.0) * 0.5 * s - 0.5, (1.0 - v) * 0.5 * s - 0.5)
            })
        };
        let mut out = vec![f32::INFINITY; size * size];
        for y in 0..size - 1 {
            for x in 0..size - 1 {
                let [a, b, c, d] = [
                    y * size + x,
                    y * size + x + 1,
                    (y + 1) * size + x,
                    (y + 1) * size + x + 1,
                ];
                for tri in [[a, c, b], [b, c, d]] {
                    let ds = tri.map(|i| depth[i]);
                    let lo = ds.iter().copied().fold(f32::INFINITY, f32::min);
                    let hi = ds.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    if !(lo > 0.0 && hi - lo <= self.continuity * lo) {
                        continue;
                    }
                    rasterize(tri.map(|i| points[i]), &project, &rays, &mut out);
                }
            }
        }
        out
    }
}

/// Writes into `out` (a z-buffer of ray depths) the ray depth of each target pixel whose
/// centre triangle `tri` (target frame; counter-clockwise in the source image) covers.
fn rasterize(
    tri: [Vec3; 3],
    project: &impl Fn(Vec3) -> Option<(f32, f32)>,
    rays: &PixelRays,
    out: &mut [f32],
) {
    let size = rays.size_px();
    let Some(q) = tri
        .iter()
        .map(|p| project(*p))
        .collect::<Option<Vec<(f32, f32)>>>()
    else {
        return;
    };
    // Twice the signed area in image coordinates (col, row): the source's triangles are
    // wound so that it is negative for a triangle facing the camera; a triangle the target
    // sees from behind comes out positive.
    let area = (q[1].0 - q[0].0) * (q[2].1 - q[0].1) - (q[2].0 - q[0].0) * (q[1].1 - q[0].1);
    if area >= 0.0 {
        return;
    }
    let normal = (tri[1] - tri[0]).cross(tri[2] - tri[0]);
    let offset = normal.dot(tri[0]);
    let lo = |k: fn(&(f32, f32)) -> f32| q.iter().map(k).fold(f32::INFINITY, f32::min);
    let hi = |k: fn(&(f32, f32)) -> f32| q.iter().map(k).fold(f32::NEG_INFINITY, f32::max);
    let last = (size - 1) as f32;
    // Pixel centres on an edge or a vertex belong to the triangle (within rounding), so that
    // a mesh seen from its own camera covers every pixel.
    let slack = 1e-4;
    let (x0, x1) = (
        (lo(|p| p.0) - slack).max(0.0).ceil(),
        (hi(|p| p.0) + slack).min(last).floor(),
    );
    let (y0, y1) = (
        (lo(|p| p.1) - slack).max(0.0).ceil(),
        (hi(|p| p.1) + slack).min(last).floor(),
    );
    if x0 > x1 || y0 > y1 {
        return;
    }
    let edge = |a: (f32, f32), b: (f32, f32), p: (f32, f32)| {
        (b.0 - a.0) * (p.1 - a.1) - (p.0 - a.0) * (b.1 - a.1)
    };
    for row in y0 as usize..=y1 as usize {
        for col in x0 as usize..=x1 as usize {
            let p = (col as f32, row as f32);
            let inside = [(0, 1), (1, 2), (2, 0)]
                .iter()
                .all(|&(i, j)| edge(q[i], q[j], p) <= slack * -area);
            if !inside {
                continue;
            }
            let dir = rays.directions()[row * size + col];
            let t = offset / normal.dot(dir);
            let slot = &mut out[row * size + col];
            if t > 0.0 && t < *slot {
                *slot = t;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use pix2scene_scene::{GeneratorConfig, Preset};

    use super::*;
    use crate::view::ViewExtrapolation;

    /// Ray depths of the plane `z = 0` seen from `camera`, `f32::INFINITY` where a ray misses.
    fn wall(camera: &Camera, size: usize) -> Vec<f32> {
        PixelRays::new(30.0, size)
            .world_directions(camera)
            .into_iter()
            .map(|d| {
                let t = -camera.eye.z / d.z;
                if t > 0.0 { t } else { f32::INFINITY }
            })
            .collect()
    }

    fn camera(eye: Vec3) -> Camera {
        Camera {
            eye,
            at: Vec3::ZERO,
            up: Vec3::Y,
            fov_y_deg: 30.0,
        }
    }

    #[test]
    fn a_plane_warps_to_its_own_depth_from_another_camera_and_is_culled_from_behind() {
        let size = 32;
        let source = camera(Vec3::new(0.0, 0.3, 2.0));
        let depth = wall(&source, size);
        let warp = ViewWarp::default();
        // The same camera: every pixel is a mesh vertex.
        let input = warp.input(&depth, &source, 30.0, size);
        let same = input.mesh(&source);
        for (got, want) in same.iter().zip(&depth) {
            assert!((got - want).abs() <= 1e-4 * want, "{got} against {want}");
        }
        // Turned by 20° about the look-at point: the wall's own depth wherever the mesh reaches.
        let target = source.orbit_y(20f32.to_radians());
        let truth = wall(&target, size);
        let turned = input.mesh(&target);
        let covered = turned.iter().filter(|d| d.is_finite()).count();
        assert!(covered > size * size / 2, "{covered} pixels covered");
        for (got, want) in turned.iter().zip(&truth).filter(|(g, _)| g.is_finite()) {
            assert!((got - want).abs() <= 1e-4 * want, "{got} against {want}");
        }
        // From behind the wall nothing is drawn, and the fill shows through.
        let behind = camera(Vec3::new(0.0, 0.3, -2.0));
        let fill = vec![7.0; size * size];
        assert_eq!(input.view(&behind, &fill), fill);
    }

    #[test]
    fn the_truth_of_a_scene_warped_to_a_turned_view_is_that_views_truth() {
        let size = 64;
        let config = GeneratorConfig::new(Preset::Shapes, size, 3);
        let fov = config.camera.fov_y_deg;
        let views = ViewExtrapolation::new(config, vec![0.0, 35.0]).unwrap();
        for index in 0..3 {
            let [input, turned] = <[_; 2]>::try_from(views.views(index)).unwrap();
            let mesh = ViewWarp::default()
                .input(&input.frame.depth, &input.camera, fov, size)
                .mesh(&turned.camera);
            let errors: Vec<f32> = mesh
                .iter()
                .zip(&turned.frame.depth)
                .zip(&turned.frame.mask)
                .filter(|((m, _), k)| m.is_finite() && **k != 0)
                .map(|((m, t), _)| (m - t).abs() / t)
                .collect();
            let exact = errors.iter().filter(|e| **e <= 1e-3).count();
            assert!(errors.len() > size * size / 2, "{} covered", errors.len());
            assert!(
                exact as f32 >= 0.95 * errors.len() as f32,
                "{exact} of {} within 0.1 %",
                errors.len()
            );
        }
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert_eq!(
            ViewWarp::new(0.0, 0.01).unwrap_err().to_string(),
            "warp continuity: 0: must be a positive fraction of the depth"
        );
        assert_eq!(
            ViewWarp::new(0.1, f32::NAN).unwrap_err().to_string(),
            "plane tolerance: NaN: must be a positive fraction of the depth"
        );
    }
}
