//! OBJ meshes, as `generate --objects` reads them.

use std::fmt::Write;
use std::path::Path;

use pix2scene_scene::{Category, TriangleMesh, parse_obj};
use rand::SeedableRng;

use crate::target::{AllocBound, Target};

/// `parse_obj` on the input read as `read_obj` reads a file (invalid UTF-8 replaced).
pub const OBJ: Target = Target {
    name: "obj",
    what: "Wavefront OBJ meshes (generate --objects)",
    seeds,
    dictionary: &[
        b"v ",
        b"f ",
        b"\nv 0 0 0",
        b"\nf 1 2 3",
        b"\nf -1 -2 -3",
        b"vt 0 0",
        b"vn 0 0 1",
        b"1/1/1",
        b"1//1",
        b"/",
        b"//",
        b"# c",
        b"o x",
        b"usemtl m",
        b"s off",
        b"-1",
        b"0",
    ],
    run,
    // The text (up to 3 bytes per input byte after replacement), 12-byte vertices from 8-byte
    // lines, 12-byte triangles from 2-byte face entries, the BVH and packed triangles, with
    // vector doubling.
    bound: AllocBound {
        per_input_byte: 64,
        fixed: 1 << 20,
    },
};

fn run(data: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(data);
    parse_obj(&text, Path::new("x.obj"))
        .map(drop)
        .map_err(|e| e.to_string())
}

/// A mesh as OBJ text, with every face form the reader accepts.
fn obj_text(mesh: &TriangleMesh) -> Vec<u8> {
    let mut text = String::from("# written by pix2scene-fuzz\no mesh\n");
    for v in mesh.vertices() {
        let _ = writeln!(text, "v {} {} {}", v.x, v.y, v.z);
    }
    text.push_str("vt 0 0\nvn 0 0 1\n");
    for (i, [a, b, c]) in mesh
        .triangles()
        .iter()
        .map(|t| t.map(|k| k + 1))
        .enumerate()
    {
        let _ = match i % 4 {
            0 => writeln!(text, "f {a} {b} {c}"),
            1 => writeln!(text, "f {a}/1 {b}/1 {c}/1"),
            2 => writeln!(text, "f {a}//1 {b}//1 {c}//1"),
            _ => writeln!(text, "f {a}/1/1 {b}/1/1 {c}/1/1"),
        };
    }
    text.into_bytes()
}

fn seeds() -> Vec<Vec<u8>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut seeds = vec![
        b"v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0 0 1\nv 1 0 1\nv 1 1 1\nv 0 1 1 1.0\n\
          f 1 4 3 2\nf 5 6 7 8\nf 1 2 6 5\nf 4 8 7 3\nf 1 5 8 4\nf -7 -6 -2 -3\n"
            .to_vec(),
        b"f 1 2 3\nv 0 0 0\nv 1 0 0\nv 0 1 0\n".to_vec(),
        obj_text(&TriangleMesh::teapot(2)),
    ];
    seeds.extend(Category::ALL.iter().map(|c| obj_text(&c.build(&mut rng))));
    seeds
}
