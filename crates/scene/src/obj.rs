//! Reading Wavefront OBJ meshes and folders of them.
//!
//! Only geometry is read: `v` lines (x y z, an optional w ignored) and `f` lines, whose
//! vertices may be written `i`, `i/j`, `i/j/k` or `i//k` with 1-based or negative (relative)
//! indices; polygons are fan-triangulated. Every other statement (`vt`, `vn`, `o`, `g`, `s`,
//! `usemtl`, `mtllib`, …) and comments are ignored.
//!
//! # Why not `tobj`
//! This reader is hand-written on purpose (compared with `tobj` 4.0.5 on the same inputs, see
//! docs/reliability.md): `tobj`'s errors carry neither the line nor the value ("position parse
//! error", "face vertex index out of bounds"), while ours name `file:line` and the token, as
//! every other error of the project does; `tobj` accepts what the ray tracer cannot use — NaN
//! and infinite coordinates, faces of two vertices, files without faces — which this reader
//! refuses where they occur instead of producing a broken mesh; and only geometry is needed,
//! which this reader parses in one pass without materials or a dependency. It is fuzzed by
//! `fuzz/` (target `obj`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use glam::Vec3;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::shape::TriangleMesh;

/// The categories of a user objects folder: `(category name, [(OBJ path, mesh)])`.
pub type ObjectCategories = Vec<(String, Vec<(PathBuf, Arc<TriangleMesh>)>)>;

/// Reads an OBJ file into a mesh, as written (not normalized).
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Parse`] naming the file and the 1-based
/// line for a malformed number, a face index that is 0 or out of range, a face with fewer than
/// 3 vertices, or a file without faces (reported at its last line).
pub fn read_obj(path: &Path) -> Result<TriangleMesh> {
    parse_obj(&read_text(path)?, path)
}

/// A file's text, with invalid UTF-8 replaced (OBJ geometry is ASCII).
fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Parses OBJ text; `path` is only used in error messages.
///
/// # Errors
/// As [`read_obj`], except for I/O.
pub fn parse_obj(text: &str, path: &Path) -> Result<TriangleMesh> {
    let geometry = parse_geometry(text, path)?;
    geometry.finish(path, TriangleMesh::new)
}

/// The raw contents of an OBJ file.
struct Geometry {
    vertices: Vec<Vec3>,
    triangles: Vec<[u32; 3]>,
    /// Number of the last line, where whole-file errors are reported.
    last_line: usize,
}

impl Geometry {
    /// Builds the mesh with `build`, reporting its errors at the file's last line.
    fn finish(
        self,
        path: &Path,
        build: impl FnOnce(Vec<Vec3>, Vec<[u32; 3]>) -> Result<TriangleMesh>,
    ) -> Result<TriangleMesh> {
        build(self.vertices, self.triangles).map_err(|e| match e {
            Error::InvalidValue { message, .. } => Error::Parse {
                path: path.to_path_buf(),
                line: Some(self.last_line),
                message,
            },
            other => other,
        })
    }
}

/// Reads the vertices and fan-triangulated faces, with every check that needs line numbers.
fn parse_geometry(text: &str, path: &Path) -> Result<Geometry> {
    let error = |line: usize, message: String| Error::Parse {
        path: path.to_path_buf(),
        line: Some(line),
        message,
    };
    let mut vertices: Vec<Vec3> = Vec::new();
    let mut triangles: Vec<[u32; 3]> = Vec::new();
    // Positive indices may refer to vertices defined later in the file, so they are checked
    // at the end: (line, largest positive index on it).
    let mut largest_index: Option<(usize, usize)> = None;
    let mut face: Vec<u32> = Vec::new();
    let mut line_count = 0;
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        line_count = number;
        let line = line.split('#').next().unwrap_or("");
        let mut tokens = line.split_whitespace();
        match tokens.next() {
            Some("v") => {
                let mut xyz = [0.0f32; 3];
                let mut count = 0;
                for token in tokens.by_ref().take(3) {
                    let value: f32 = token.parse().map_err(|_| {
                        error(number, format!("invalid vertex coordinate \"{token}\""))
                    })?;
                    if !value.is_finite() {
                        return Err(error(
                            number,
                            format!("vertex coordinate \"{token}\" is not finite"),
                        ));
                    }
                    xyz[count] = value;
                    count += 1;
                }
                if count < 3 {
                    return Err(error(
                        number,
                        format!("vertex has {count} coordinates, expected 3"),
                    ));
                }
                vertices.push(Vec3::from(xyz));
            }
            Some("f") => {
                face.clear();
                for token in tokens {
                    let index_text = token.split('/').next().unwrap_or("");
                    let index: i64 = index_text
                        .parse()
                        .map_err(|_| error(number, format!("invalid face vertex \"{token}\"")))?;
                    let defined = vertices.len();
                    let resolved = if index > 0 {
                        let k = index as usize;
                        if largest_index.is_none_or(|(_, m)| k > m) {
                            largest_index = Some((number, k));
                        }
                        k - 1
                    } else if index < 0 && index.unsigned_abs() as usize <= defined {
                        defined - index.unsigned_abs() as usize
                    } else if index < 0 {
                        return Err(error(
                            number,
                            format!(
                                "face index {index} out of range ({defined} vertices defined \
                                 before this line)"
                            ),
                        ));
                    } else {
                        return Err(error(
                            number,
                            "face index 0 is invalid (indices start at 1)".to_string(),
                        ));
                    };
                    let resolved = u32::try_from(resolved)
                        .map_err(|_| error(number, format!("face index {index} is too large")))?;
                    face.push(resolved);
                }
                if face.len() < 3 {
                    return Err(error(
                        number,
                        format!("face has {} vertices, at least 3 needed", face.len()),
                    ));
                }
                for k in 1..face.len() - 1 {
                    triangles.push([face[0], face[k], face[k + 1]]);
                }
            }
            _ => {}
        }
    }
    if let Some((line, index)) = largest_index
        && index > vertices.len()
    {
        return Err(error(
            line,
            format!(
                "face index {index} out of range (file has {} vertices)",
                vertices.len()
            ),
        ));
    }
    let last_line = line_count.max(1);
    if triangles.is_empty() {
        return Err(error(last_line, "no faces in the file".to_string()));
    }
    Ok(Geometry {
        vertices,
        triangles,
        last_line,
    })
}

/// Loads a user objects folder: each subfolder of `dir` is a category named after it, holding
/// `.obj` files at any depth (so a ShapeNet synset folder works as is). Each mesh is
/// normalized (see [`TriangleMesh::new_normalized`]). Categories and files are sorted by name,
/// so the result does not depend on the file system; subfolders without `.obj` files are
/// skipped. Files are parsed in parallel.
///
/// # Errors
/// [`Error::Io`] for an unreadable folder or file, [`Error::Parse`] for a malformed OBJ, and
/// [`Error::InvalidValue`] if no subfolder holds an `.obj` file.
pub fn load_objects_dir(dir: &Path) -> Result<ObjectCategories> {
    let mut categories = Vec::new();
    for sub in sorted_entries(dir)? {
        if !sub.is_dir() {
            continue;
        }
        let mut files = Vec::new();
        collect_obj_files(&sub, &mut files)?;
        if files.is_empty() {
            continue;
        }
        let meshes = files
            .into_par_iter()
            .map(|path| {
                let text = read_text(&path)?;
                let mesh =
                    parse_geometry(&text, &path)?.finish(&path, TriangleMesh::new_normalized)?;
                Ok((path, Arc::new(mesh)))
            })
            .collect::<Result<Vec<_>>>()?;
        let name = sub
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        categories.push((name, meshes));
    }
    if categories.is_empty() {
        return Err(Error::InvalidValue {
            field: dir.display().to_string(),
            message: "no subfolder holds an .obj file (expected one subfolder per category)"
                .to_string(),
        });
    }
    Ok(categories)
}

/// The entries of a folder, sorted by path.
fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()).map_err(io))
        .collect::<Result<Vec<_>>>()?;
    entries.sort();
    Ok(entries)
}

/// Appends the `.obj` files under `dir` (recursively, sorted) to `out`.
fn collect_obj_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for path in sorted_entries(dir)? {
        if path.is_dir() {
            collect_obj_files(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("obj"))
        {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ray::Ray;
    use crate::shape::Intersect;

    /// A unit cube `[0, 1]³` with quads, mixed face forms, a negative index and clutter.
    const CUBE: &str = "\
# a cube
mtllib cube.mtl
o cube
v 0 0 0
v 1 0 0
v 1 1 0
v 0 1 0
v 0 0 1
v 1 0 1
v 1 1 1
v 0 1 1 1.0
vt 0 0
vn 0 0 1
usemtl grey
s off
f 1 4 3 2
f 5/1 6/1 7/1 8/1
f 1//1 2//1 6//1 5//1
f 4/1/1 8/1/1 7/1/1 3/1/1
f 1 5 8 4
f -7 -6 -2 -3
";

    /// A fresh, empty temporary folder for one test.
    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pix2scene-obj-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn cube_file_loads_with_the_right_counts_and_ray_hits() {
        let dir = temp_dir("cube");
        let path = dir.join("cube.obj");
        std::fs::write(&path, CUBE).unwrap();
        let mesh = read_obj(&path).unwrap();
        assert_eq!(mesh.vertices().len(), 8);
        assert_eq!(mesh.triangles().len(), 12);
        assert!(mesh.is_closed());
        // Down the y axis onto the top face, and along −x onto the +x face.
        let hit = mesh
            .intersect(
                &Ray::new(Vec3::new(0.3, 5.0, 0.6), -Vec3::Y),
                0.0,
                f32::INFINITY,
            )
            .unwrap();
        assert!((hit.t - 4.0).abs() < 1e-6);
        assert_eq!(hit.normal, Vec3::Y);
        let hit = mesh
            .intersect(
                &Ray::new(Vec3::new(3.0, 0.2, 0.9), -Vec3::X),
                0.0,
                f32::INFINITY,
            )
            .unwrap();
        assert!((hit.t - 2.0).abs() < 1e-6);
        assert_eq!(hit.normal, Vec3::X);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn malformed_files_name_the_file_and_line() {
        let path = Path::new("bad.obj");
        let cases = [
            (
                "v 0 0 0\nv 1 0 x\n",
                "bad.obj:2: invalid vertex coordinate \"x\"",
            ),
            ("v 0 0\n", "bad.obj:1: vertex has 2 coordinates, expected 3"),
            (
                "v 0 0 inf\n",
                "bad.obj:1: vertex coordinate \"inf\" is not finite",
            ),
            (
                "v 0 0 0\nv 1 0 0\nv 0 1 0\n\nf 1 2 12\n",
                "bad.obj:5: face index 12 out of range (file has 3 vertices)",
            ),
            (
                "v 0 0 0\nv 1 0 0\nf -1 -2 -3\nv 0 1 0\n",
                "bad.obj:3: face index -3 out of range (2 vertices defined before this line)",
            ),
            (
                "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 0 1 2\n",
                "bad.obj:4: face index 0 is invalid (indices start at 1)",
            ),
            (
                "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1/1 2/2\n",
                "bad.obj:4: face has 2 vertices, at least 3 needed",
            ),
            (
                "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 a/3\n",
                "bad.obj:4: invalid face vertex \"a/3\"",
            ),
            (
                "v 0 0 0\nv 1 0 0\nv 0 1 0\n# nothing else\n",
                "bad.obj:4: no faces in the file",
            ),
            (
                "v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\n",
                "bad.obj:4: no triangle with a nonzero area",
            ),
        ];
        for (text, expected) in cases {
            let err = parse_obj(text, path).unwrap_err();
            assert_eq!(err.to_string(), expected);
        }
    }

    #[test]
    fn forward_references_and_negative_indices_resolve() {
        let mesh = parse_obj(
            "f 1 2 3\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf -3 -1 -2\n",
            Path::new("x"),
        )
        .unwrap();
        assert_eq!(mesh.triangles(), &[[0, 1, 2], [0, 2, 1]]);
    }

    #[test]
    fn missing_file_is_an_io_error_naming_it() {
        let path = std::env::temp_dir().join("pix2scene-obj-does-not-exist.obj");
        let err = read_obj(&path).unwrap_err();
        assert!(matches!(err, Error::Io { .. }));
        assert_eq!(err.to_string(), path.display().to_string());
    }

    #[test]
    fn objects_dir_loads_categories_sorted_and_normalized() {
        let dir = temp_dir("dir");
        for (category, file) in [("mug", "b.obj"), ("mug", "a.obj"), ("bowl", "x/deep.OBJ")] {
            let path = dir.join(category).join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, CUBE).unwrap();
        }
        std::fs::create_dir_all(dir.join("empty")).unwrap();
        std::fs::write(dir.join("stray.obj"), CUBE).unwrap();
        let loaded = load_objects_dir(&dir).unwrap();
        let names: Vec<(&str, Vec<PathBuf>)> = loaded
            .iter()
            .map(|(n, m)| (n.as_str(), m.iter().map(|(p, _)| p.clone()).collect()))
            .collect();
        assert_eq!(
            names,
            [
                ("bowl", vec![dir.join("bowl/x/deep.OBJ")]),
                ("mug", vec![dir.join("mug/a.obj"), dir.join("mug/b.obj")]),
            ]
        );
        let (min, max) = loaded[0].1[0].1.bounding_box();
        assert_eq!((min, max), (Vec3::splat(-0.5), Vec3::splat(0.5)));

        let empty = temp_dir("empty");
        let err = load_objects_dir(&empty).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: no subfolder holds an .obj file (expected one subfolder per category)",
                empty.display()
            )
        );
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&empty).unwrap();
    }
}
