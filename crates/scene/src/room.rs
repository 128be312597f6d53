//! The room: a three-sided box (floor y = 0, walls x = 0 and z = 0) as in the authors' code.

use glam::Vec3;

use crate::ray::{Hit, Ray};

/// A three-sided box with its inner corner at the world origin: the floor `y = 0` and the walls
/// `x = 0` and `z = 0`, each a square of side `extent` facing into the positive octant.
///
/// # Units and frames
/// World frame, scene units; the default extent is 1 (the room's largest extent defines the unit).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Room {
    /// Side of each of the three squares.
    pub extent: f32,
}

impl Default for Room {
    fn default() -> Self {
        Self { extent: 1.0 }
    }
}

impl Room {
    /// Nearest hit of a world-frame ray with the front faces of the floor or walls.
    ///
    /// The surfaces are one-sided: seen from behind (a camera outside the room, as in view
    /// extrapolation at large angles) a wall is invisible, so it never hides the scene.
    #[inline]
    pub fn intersect(&self, ray: &Ray, t_min: f32, t_max: f32) -> Option<Hit> {
        let mut best: Option<Hit> = None;
        let mut t_best = t_max;
        for axis in 0..3 {
            let d = ray.dir[axis];
            // Only the side facing +axis is a surface; rays from inside travel towards −axis.
            if d >= 0.0 {
                continue;
            }
            let t = -ray.origin[axis] / d;
            if t <= t_min || t >= t_best {
                continue;
            }
            let p = ray.at(t);
            let (u, v) = ((axis + 1) % 3, (axis + 2) % 3);
            if p[u] < 0.0 || p[u] > self.extent || p[v] < 0.0 || p[v] > self.extent {
                continue;
            }
            t_best = t;
            best = Some(Hit {
                t,
                normal: Vec3::AXES[axis],
            });
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rays_towards_the_corner_hit_floor_or_walls() {
        let room = Room::default();
        let r = Ray::new(Vec3::new(0.5, 0.5, 0.5), Vec3::new(0.0, -1.0, 0.0));
        let h = room.intersect(&r, 0.0, f32::INFINITY).unwrap();
        assert_eq!(h.normal, Vec3::Y);
        assert!((h.t - 0.5).abs() < 1e-6);
        let r = Ray::new(
            Vec3::new(0.5, 0.5, 0.5),
            Vec3::new(-1.0, -0.2, 0.0).normalize(),
        );
        let h = room.intersect(&r, 0.0, f32::INFINITY).unwrap();
        assert_eq!(h.normal, Vec3::X);
        // Leaving the room through the open side misses.
        let r = Ray::new(
            Vec3::new(0.5, 0.5, 0.5),
            Vec3::new(1.0, 0.1, 0.0).normalize(),
        );
        assert!(room.intersect(&r, 0.0, f32::INFINITY).is_none());
        // Past the wall's far edge misses too.
        let r = Ray::new(Vec3::new(0.5, 1.5, 0.5), Vec3::new(-1.0, 0.0, 0.0));
        assert!(room.intersect(&r, 0.0, f32::INFINITY).is_none());
    }

    #[test]
    fn walls_are_one_sided_invisible_from_behind() {
        // A camera behind the wall z = 0 (outside the room) sees through it onto the floor and
        // the other wall: view extrapolation relies on this at large angles.
        let room = Room::default();
        let eye = Vec3::new(0.5, 0.4, -0.3);
        let to_floor = Ray::new(eye, (Vec3::new(0.5, 0.0, 0.4) - eye).normalize());
        let h = room.intersect(&to_floor, 0.0, f32::INFINITY).unwrap();
        assert_eq!(h.normal, Vec3::Y);
        assert!((h.t - (Vec3::new(0.5, 0.0, 0.4) - eye).length()).abs() < 1e-5);
        let to_wall = Ray::new(eye, (Vec3::new(0.0, 0.5, 0.5) - eye).normalize());
        assert_eq!(
            room.intersect(&to_wall, 0.0, f32::INFINITY).unwrap().normal,
            Vec3::X
        );
        // Seen from behind, the back of the wall x = 0 is not a surface either.
        let r = Ray::new(Vec3::new(-0.5, 0.5, 0.5), Vec3::X);
        assert!(room.intersect(&r, 0.0, f32::INFINITY).is_none());
    }
}
