//! Test-only helpers shared by the shape tests.

use glam::Vec3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::ray::Ray;
use crate::shape::Intersect;

/// A uniformly random unit vector.
pub fn random_unit(rng: &mut ChaCha8Rng) -> Vec3 {
    loop {
        let v = Vec3::new(
            rng.random_range(-1.0..1.0),
            rng.random_range(-1.0..1.0),
            rng.random_range(-1.0..1.0),
        );
        let l = v.length();
        if l > 1e-3 && l <= 1.0 {
            return v / l;
        }
    }
}

/// Fires seeded random rays from outside the bounding sphere at `shape` and checks, against the
/// independent point-membership test `inside`: hit normals are unit and outward (a point nudged
/// along the normal is outside, against it inside); the segment before the hit is outside (the
/// hit is the nearest); and rays reported as misses never pass through the inside.
pub fn check_shape_invariants(shape: &impl Intersect, inside: impl Fn(Vec3) -> bool, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let r = shape.bounding_radius();
    let eps = 2e-3 * r;
    let mut hits = 0;
    for _ in 0..2000 {
        let origin = random_unit(&mut rng) * r * 3.0;
        let target = random_unit(&mut rng) * r * rng.random_range(0.0f32..1.0);
        let ray = Ray::new(origin, (target - origin).normalize());
        let steps = 400;
        let far = 6.0 * r;
        match shape.intersect(&ray, 0.0, f32::INFINITY) {
            Some(h) => {
                hits += 1;
                assert!((h.normal.length() - 1.0).abs() < 1e-4, "normal not unit");
                let p = ray.at(h.t);
                assert!(!inside(p + h.normal * eps), "normal points inward at {p}");
                assert!(
                    inside(p - h.normal * eps),
                    "normal points outward-in at {p}"
                );
                for k in 1..steps {
                    let t = h.t * k as f32 / steps as f32;
                    if t < h.t - eps {
                        assert!(!inside(ray.at(t)), "missed an earlier hit before t={}", h.t);
                    }
                }
            }
            None => {
                for k in 0..steps {
                    let t = far * k as f32 / steps as f32;
                    assert!(!inside(ray.at(t)), "reported a miss through the inside");
                }
            }
        }
    }
    assert!(hits > 200, "too few hits to test: {hits}");
}
