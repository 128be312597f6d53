//! Lane-generic arithmetic, so that one formula serves one point at a time (`f32`) and a row of
//! points at once ([`Lanes`], structure of arrays).
//!
//! Paper Eq. 1 ([`crate::ShadingConstants::radiance_lanes`]) is written once against [`Lane`]:
//! the ray tracer instantiates it with `f32`, the fused kernel of `pix2scene-render` with
//! `Lanes<N>`, whose element-wise loops the compiler turns into SIMD instructions.

use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use glam::Vec3;

/// A number type whose arithmetic runs element-wise over its lanes: `f32` (one lane) or
/// [`Lanes`].
pub trait Lane:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
{
    /// Every lane set to `v`.
    fn splat(v: f32) -> Self;
    /// Square root of each lane.
    fn sqrt(self) -> Self;
    /// Per lane: `v` where `cond > 0`, else 0 (also where `cond` is NaN).
    fn where_positive(cond: Self, v: Self) -> Self;
}

impl Lane for f32 {
    #[inline(always)]
    fn splat(v: f32) -> Self {
        v
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
    #[inline(always)]
    fn where_positive(cond: Self, v: Self) -> Self {
        if cond > 0.0 { v } else { 0.0 }
    }
}

/// `N` independent `f32` lanes (e.g. `N` consecutive pixels of an image row).
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(transparent)]
pub struct Lanes<const N: usize>(pub [f32; N]);

impl<const N: usize> Lanes<N> {
    /// Applies `f` to each lane.
    #[inline(always)]
    pub fn map(self, f: impl Fn(f32) -> f32) -> Self {
        let mut out = self.0;
        for v in &mut out {
            *v = f(*v);
        }
        Self(out)
    }

    /// Combines two lane sets lane by lane.
    #[inline(always)]
    pub fn zip(self, other: Self, f: impl Fn(f32, f32) -> f32) -> Self {
        // Plain loops (not `array::from_fn`) so that nothing stays out of line in a hot loop.
        let mut out = self.0;
        for (v, o) in out.iter_mut().zip(other.0) {
            *v = f(*v, o);
        }
        Self(out)
    }
}

macro_rules! lanes_binary_op {
    ($trait:ident, $method:ident, $assign_trait:ident, $assign:ident, $op:tt) => {
        impl<const N: usize> $trait for Lanes<N> {
            type Output = Self;
            #[inline(always)]
            fn $method(self, rhs: Self) -> Self {
                self.zip(rhs, |a, b| a $op b)
            }
        }
        impl<const N: usize> $assign_trait for Lanes<N> {
            #[inline(always)]
            fn $assign(&mut self, rhs: Self) {
                *self = *self $op rhs;
            }
        }
    };
}

lanes_binary_op!(Add, add, AddAssign, add_assign, +);
lanes_binary_op!(Sub, sub, SubAssign, sub_assign, -);
lanes_binary_op!(Mul, mul, MulAssign, mul_assign, *);
lanes_binary_op!(Div, div, DivAssign, div_assign, /);

impl<const N: usize> Neg for Lanes<N> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        self.map(|a| -a)
    }
}

impl<const N: usize> Lane for Lanes<N> {
    #[inline(always)]
    fn splat(v: f32) -> Self {
        Self([v; N])
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        self.map(f32::sqrt)
    }
    #[inline(always)]
    fn where_positive(cond: Self, v: Self) -> Self {
        cond.zip(v, <f32 as Lane>::where_positive)
    }
}

/// A 3-vector whose components are [`Lane`]s: one vector per lane, stored as structure of
/// arrays.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Vec3s<T> {
    /// x components.
    pub x: T,
    /// y components.
    pub y: T,
    /// z components.
    pub z: T,
}

impl<T: Lane> Vec3s<T> {
    /// The zero vector in every lane.
    #[inline(always)]
    pub fn zero() -> Self {
        Self::splat(Vec3::ZERO)
    }

    /// `v` in every lane.
    #[inline(always)]
    pub fn splat(v: Vec3) -> Self {
        Self {
            x: T::splat(v.x),
            y: T::splat(v.y),
            z: T::splat(v.z),
        }
    }

    /// Dot product per lane, summed in the order x, y, z (as `glam`).
    #[inline(always)]
    pub fn dot(self, o: Self) -> T {
        self.x * o.x + self.y * o.y + self.z * o.z
    }

    /// Euclidean length per lane.
    #[inline(always)]
    pub fn length(self) -> T {
        self.dot(self).sqrt()
    }

    /// Component-wise product.
    #[inline(always)]
    pub fn mul_elem(self, o: Self) -> Self {
        Self {
            x: self.x * o.x,
            y: self.y * o.y,
            z: self.z * o.z,
        }
    }

    /// Applies `f` to each component.
    #[inline(always)]
    pub fn map(self, f: impl Fn(T) -> T) -> Self {
        Self {
            x: f(self.x),
            y: f(self.y),
            z: f(self.z),
        }
    }
}

impl From<Vec3> for Vec3s<f32> {
    #[inline(always)]
    fn from(v: Vec3) -> Self {
        Self {
            x: v.x,
            y: v.y,
            z: v.z,
        }
    }
}

impl From<Vec3s<f32>> for Vec3 {
    #[inline(always)]
    fn from(v: Vec3s<f32>) -> Self {
        Vec3::new(v.x, v.y, v.z)
    }
}

impl<T: Lane> Add for Vec3s<T> {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Self {
            x: self.x + o.x,
            y: self.y + o.y,
            z: self.z + o.z,
        }
    }
}

impl<T: Lane> Sub for Vec3s<T> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Self {
            x: self.x - o.x,
            y: self.y - o.y,
            z: self.z - o.z,
        }
    }
}

impl<T: Lane> AddAssign for Vec3s<T> {
    #[inline(always)]
    fn add_assign(&mut self, o: Self) {
        *self = *self + o;
    }
}

impl<T: Lane> SubAssign for Vec3s<T> {
    #[inline(always)]
    fn sub_assign(&mut self, o: Self) {
        *self = *self - o;
    }
}

/// Scales every component by a per-lane factor.
impl<T: Lane> Mul<T> for Vec3s<T> {
    type Output = Self;
    #[inline(always)]
    fn mul(self, s: T) -> Self {
        self.map(|c| c * s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_match_scalar_arithmetic() {
        let a = Lanes([1.0f32, -2.0, 0.0, 4.0]);
        let b = Lanes([0.5f32, 3.0, -1.0, 2.0]);
        let f = |x: f32, y: f32| ((x + y) * x - y / (y * y + 1.0)).sqrt() - -x;
        let got = ((a + b) * a - b / (b * b + Lanes::splat(1.0))).sqrt() - -a;
        for i in 0..4 {
            let want = f(a.0[i], b.0[i]);
            assert!(got.0[i] == want || (got.0[i].is_nan() && want.is_nan()));
        }
        assert_eq!(Lane::where_positive(a, b).0, [0.5, 0.0, 0.0, 2.0]);
        assert_eq!(Lane::where_positive(f32::NAN, 1.0), 0.0);
    }

    #[test]
    fn vec3s_matches_glam() {
        let u = Vec3::new(0.3, -1.2, 2.5);
        let v = Vec3::new(-0.7, 0.4, 1.1);
        let (su, sv) = (Vec3s::from(u), Vec3s::from(v));
        assert_eq!(su.dot(sv), u.dot(v));
        assert_eq!(su.length(), u.length());
        assert_eq!(Vec3::from(su - sv * 2.0), u - v * 2.0);
        assert_eq!(Vec3::from(su.mul_elem(sv) + su), u * v + u);
    }
}
