//! Shapes with exact ray intersection, each in its own local frame centred at the origin.
//!
//! A shape is placed in the world by a [`Placement`](crate::Placement); [`Object`](crate::Object)
//! maps rays into the local frame and hits back out, so every intersector here is written once.

mod builder;
mod bvh;
mod category;
mod cone;
mod cuboid;
mod cylinder;
mod mesh;
mod polycube_mesh;
mod revolve;
mod sphere;
mod teapot;
mod torus;
mod tube;

pub use category::Category;
pub use cone::Cone;
pub use cuboid::Cuboid;
pub use cylinder::Cylinder;
pub use mesh::TriangleMesh;
pub use revolve::Profile;
pub use sphere::Sphere;
pub use torus::Torus;

use crate::ray::{Hit, Ray};

/// Ray intersection in a shape's local frame.
pub trait Intersect {
    /// The nearest hit with `t_min < t < t_max`, or `None` when the ray misses.
    ///
    /// # Units and frames
    /// `ray` is in the shape's local frame with a unit direction; the returned normal is the unit
    /// outward normal in the same frame.
    fn intersect(&self, ray: &Ray, t_min: f32, t_max: f32) -> Option<Hit>;

    /// Radius of a sphere centred at the local origin that contains the whole shape.
    fn bounding_radius(&self) -> f32;

    /// Lowest y of the shape in its local frame (so that placement can stand it on the floor).
    fn min_y(&self) -> f32;
}

/// Every kind of shape the generator places in a scene.
#[derive(Clone, Debug)]
pub enum Shape {
    /// Axis-aligned box.
    Cuboid(Cuboid),
    /// Sphere.
    Sphere(Sphere),
    /// Capped cylinder along y.
    Cylinder(Cylinder),
    /// Capped cone along y, apex up.
    Cone(Cone),
    /// Torus around the y axis.
    Torus(Torus),
    /// Triangle mesh, shared between the objects that use it.
    Mesh(std::sync::Arc<TriangleMesh>),
}

impl Intersect for Shape {
    #[inline]
    fn intersect(&self, ray: &Ray, t_min: f32, t_max: f32) -> Option<Hit> {
        match self {
            Shape::Cuboid(s) => s.intersect(ray, t_min, t_max),
            Shape::Sphere(s) => s.intersect(ray, t_min, t_max),
            Shape::Cylinder(s) => s.intersect(ray, t_min, t_max),
            Shape::Cone(s) => s.intersect(ray, t_min, t_max),
            Shape::Torus(s) => s.intersect(ray, t_min, t_max),
            Shape::Mesh(s) => s.intersect(ray, t_min, t_max),
        }
    }

    fn bounding_radius(&self) -> f32 {
        match self {
            Shape::Cuboid(s) => s.bounding_radius(),
            Shape::Sphere(s) => s.bounding_radius(),
            Shape::Cylinder(s) => s.bounding_radius(),
            Shape::Cone(s) => s.bounding_radius(),
            Shape::Torus(s) => s.bounding_radius(),
            Shape::Mesh(s) => s.bounding_radius(),
        }
    }

    fn min_y(&self) -> f32 {
        match self {
            Shape::Cuboid(s) => s.min_y(),
            Shape::Sphere(s) => s.min_y(),
            Shape::Cylinder(s) => s.min_y(),
            Shape::Cone(s) => s.min_y(),
            Shape::Torus(s) => s.min_y(),
            Shape::Mesh(s) => s.min_y(),
        }
    }
}
