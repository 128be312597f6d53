//! `pix2scene eval`, `reconstruct`, `sample`, `interpolate` and `report` on one tiny run trained
//! once for this test binary, and their bad input.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use crate::{assert_fails_with, assert_succeeded, pix2scene};

/// A trained run and datasets, shared by the tests of this module.
struct Trained {
    dir: PathBuf,
    run: String,
    test: String,
}

fn generate(out: &Path, preset: &str, size: &str, count: &str) {
    let out = out.to_str().unwrap();
    let args = [
        "generate", "--preset", preset, "--count", count, "--size", size, "--seed", "3", "--out",
        out, "--quiet",
    ];
    assert_succeeded(&pix2scene(&args));
}

fn trained() -> &'static Trained {
    static TRAINED: OnceLock<Trained> = OnceLock::new();
    TRAINED.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("pix2scene-cli-{}-eval", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../configs/tiny-32.toml");
        let run = dir.join("run");
        let out = pix2scene(&[
            "train",
            "--config",
            config.to_str().unwrap(),
            "--out",
            run.to_str().unwrap(),
            "--steps",
            "2",
            "--quiet",
        ]);
        assert_succeeded(&out);
        generate(&dir.join("test"), "boxes", "32", "5");
        Trained {
            run: run.to_string_lossy().into_owned(),
            test: dir.join("test").to_string_lossy().into_owned(),
            dir,
        }
    })
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `--json` prints the docs/eval.md object on its last line, the same bytes on 1 and 2 threads.
#[test]
fn eval_json_is_the_contract_and_independent_of_threads() {
    let t = trained();
    let run = |threads: &str| {
        let out = pix2scene(&[
            "--threads",
            threads,
            "eval",
            "--run",
            &t.run,
            "--data",
            &t.test,
            "--json",
            "--limit",
            "3",
        ]);
        assert_succeeded(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    let last = one.trim_end().lines().last().unwrap();
    let v: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(v["images"], 3);
    assert_eq!(v["checkpoint"], "best (step-2)");
    let views = v["views"].as_object().unwrap();
    assert_eq!(views.keys().collect::<Vec<_>>(), ["0", "35", "55", "80"]);
    for key in [
        "hausdorff_f",
        "hausdorff_f_std",
        "hausdorff_r",
        "mse_depth",
        "side",
        "mad_deg",
    ] {
        assert!(views["80"][key].as_f64().unwrap() >= 0.0, "{key}");
    }
    // The table shows the paper's Table 1 box row beside ours.
    let out = pix2scene(&["eval", "--run", &t.run, "--data", &t.test, "--views", "0"]);
    assert_succeeded(&out);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("paper (Table 1)") && table.contains("0.087"),
        "{table}"
    );
}

/// The image-blind baseline is scored by the same code (and needs its training data).
#[test]
fn eval_scores_an_image_blind_baseline() {
    let t = trained();
    let out = pix2scene(&[
        "eval",
        "--baseline",
        "global-mean",
        "--train-data",
        &t.test,
        "--data",
        &t.test,
        "--views",
        "0,35",
        "--json",
    ]);
    assert_succeeded(&out);
    let v: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim_end()).unwrap();
    assert_eq!(v["checkpoint"], "baseline global-mean over 5 scenes");
    assert!(v["views"]["35"]["mse_depth"].as_f64().unwrap() > 0.0);
    let out = pix2scene(&[
        "eval",
        "--baseline",
        "median",
        "--train-data",
        &t.test,
        "--data",
        &t.test,
    ]);
    assert_fails_with(
        &out,
        "--baseline: \"median\" is not per-pixel-mean or global-mean",
    );
}

/// `--refine K` scores the input view after test-time refinement and the turned views warped
/// from it; the input view's figures do not depend on the other views asked for.
#[test]
fn eval_refine_scores_every_view_from_the_refined_input_view() {
    let t = trained();
    let json = |views: &str| {
        let out = pix2scene(&[
            "eval", "--run", &t.run, "--data", &t.test, "--refine", "2", "--limit", "2", "--views",
            views, "--json",
        ]);
        assert_succeeded(&out);
        let last = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str::<serde_json::Value>(last.trim_end().lines().last().unwrap()).unwrap()
    };
    let all = json("0,35,55,80");
    assert_eq!(all["checkpoint"], "best (step-2), refined 2 steps");
    let views = all["views"].as_object().unwrap();
    assert_eq!(views.keys().collect::<Vec<_>>(), ["0", "35", "55", "80"]);
    assert_eq!(json("0")["views"]["0"], all["views"]["0"]);
    let out = pix2scene(&[
        "eval",
        "--baseline",
        "global-mean",
        "--train-data",
        &t.test,
        "--data",
        &t.test,
        "--refine",
        "2",
    ]);
    // A flag conflict is clap's usage error.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("'--baseline <KIND>' cannot be used with '--refine <K>'"),
        "{stderr}"
    );
}

#[test]
fn eval_refuses_bad_runs_datasets_and_views_on_one_line() {
    let t = trained();
    let empty = t.dir.join("no-checkpoint");
    std::fs::create_dir_all(empty.join("checkpoints")).unwrap();
    std::fs::copy(
        Path::new(&t.run).join("config.toml"),
        empty.join("config.toml"),
    )
    .unwrap();
    let out = pix2scene(&["eval", "--run", path(&empty), "--data", &t.test]);
    assert_fails_with(
        &out,
        "no-checkpoint: no checkpoint in checkpoints/ (has the run saved one yet?)",
    );
    let small = t.dir.join("small");
    generate(&small, "boxes", "16", "2");
    let out = pix2scene(&["eval", "--run", &t.run, "--data", path(&small)]);
    assert_fails_with(
        &out,
        "small: images are 16×16 pixels, the model takes 32×32",
    );
    let iqtt = t.dir.join("iqtt");
    generate(&iqtt, "iqtt", "32", "2");
    let out = pix2scene(&["eval", "--run", &t.run, "--data", path(&iqtt)]);
    assert_fails_with(
        &out,
        "iqtt: an iqtt dataset holds 3D-IQTT questions, not single views",
    );
    let out = pix2scene(&[
        "eval", "--run", &t.run, "--data", &t.test, "--views", "0,200",
    ]);
    assert_fails_with(
        &out,
        "--views: angle 200 is out of range (0 to 180 degrees)",
    );
    let out = pix2scene(&[
        "eval",
        "--run",
        &t.run,
        "--data",
        &t.test,
        "--checkpoint",
        "step-9",
    ]);
    assert_fails_with(&out, "no checkpoint step-9 (kept: step-2)");
}

/// A 32×32 RGB PNG, or one of another shape.
fn write_png(path: &Path, w: u32, h: u32) {
    let file = std::fs::File::create(path).unwrap();
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let data: Vec<u8> = (0..w * h * 3).map(|i| (i * 7 % 251) as u8).collect();
    enc.write_header().unwrap().write_image_data(&data).unwrap();
}

/// `pix2scene reconstruct` of the trained run on test record `index` into `out`, with `extra`
/// flags.
fn reconstruct_record(t: &Trained, index: u64, out: &Path, extra: &[&str]) -> Output {
    let index = index.to_string();
    let mut args = vec![
        "reconstruct",
        "--run",
        &t.run,
        "--input",
        &t.test,
        "--index",
        &index,
        "--out",
        path(out),
    ];
    args.extend(extra);
    pix2scene(&args)
}

#[test]
fn eval_post_scores_the_map_reconstruct_writes_at_the_input_view() {
    let t = trained();
    let eval = |extra: &[&str]| {
        let mut args = vec!["eval", "--run", &t.run, "--data", &t.test];
        args.extend(extra);
        pix2scene(&args)
    };
    let ops = "mirror,snap,guided,refine:2:5,guided";
    let out = eval(&["--post", ops, "--limit", "1", "--views", "0", "--json"]);
    assert_succeeded(&out);
    let v: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim_end()).unwrap();
    let steps = "averaged with the mirrored image's map, edges snapped (5 px, 0.1), colour-guided \
                 median (11 px, σ 0.05), refined 2 steps (change ≤ 5 %), colour-guided median \
                 (11 px, σ 0.05)";
    assert_eq!(v["checkpoint"], format!("best (step-2), {steps}"));
    let views = v["views"].as_object().unwrap();
    assert_eq!(views.keys().collect::<Vec<_>>(), ["0"]);
    let rec = t.dir.join("rec-post");
    let out = reconstruct_record(t, 0, &rec, &["--post", ops, "--frames", "1"]);
    assert_succeeded(&out);
    assert!(rec.join("post-turntable.gif").is_file());
    let snapped = t.dir.join("rec-post-snap");
    assert_succeeded(&reconstruct_record(
        t,
        0,
        &snapped,
        &["--post", "snap", "--frames", "1"],
    ));
    assert!(snapped.join("post-depth.npy").is_file());
    assert!(
        !snapped.join("post-turntable.gif").exists(),
        "snapping alone works on every view: the turntable is the network's"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("\npost-processed ({steps}): image MSE ")),
        "{stdout}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(rec.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["post_steps"], steps);
    for metric in ["hausdorff_f", "hausdorff_r", "mse_depth"] {
        assert_eq!(
            v["views"]["0"][metric].as_f64(),
            summary["post"]["metrics"][metric].as_f64(),
            "{metric}"
        );
    }
    let out = eval(&["--post", "snap,blur"]);
    assert_fails_with(
        &out,
        "--post: \"blur\" is not snap, guided, mirror, refine:K or refine:K:T",
    );
    let out = eval(&["--refine", "0"]);
    assert_fails_with(
        &out,
        "--refine: 0 steps: leave --refine out to score the network's own maps",
    );
}

#[test]
fn reconstruct_writes_every_file_for_a_record_and_for_a_bare_png() {
    let t = trained();
    let rec = t.dir.join("rec");
    let out = reconstruct_record(t, 1, &rec, &["--refine", "2", "--frames", "3"]);
    assert_succeeded(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\nnetwork: image MSE ") && stdout.contains("\nrefined (2 steps)"));
    for file in [
        "input.png",
        "camera.json",
        "depth.png",
        "depth.npy",
        "normal.png",
        "normal.npy",
        "render.png",
        "surfels.ply",
        "turntable.gif",
        "summary.json",
        "refined-depth.npy",
    ] {
        assert!(rec.join(file).is_file(), "{file}");
    }
    // The record's own camera file and input image serve a bare-PNG reconstruction.
    let bare = t.dir.join("bare");
    let out = pix2scene(&[
        "reconstruct",
        "--run",
        &t.run,
        "--input",
        path(&rec.join("input.png")),
        "--camera",
        path(&rec.join("camera.json")),
        "--out",
        path(&bare),
        "--frames",
        "2",
    ]);
    assert_succeeded(&out);
    // The same camera and lights, and the image up to its 8-bit rounding, give nearly the same
    // depth map.
    let (a, b) = (
        npy_values(&bare.join("depth.npy")),
        npy_values(&rec.join("depth.npy")),
    );
    assert_eq!(a.len(), 32 * 32);
    let mean = b.iter().sum::<f32>() / b.len() as f32;
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max);
    assert!(worst < 0.02 * mean, "{worst} vs mean depth {mean}");
}

/// The float32 values of a `.npy` file.
fn npy_values(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap();
    let header = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    bytes[10 + header..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn reconstruct_refuses_bad_images_on_one_line() {
    let t = trained();
    let dir = t.dir.join("bad-images");
    std::fs::create_dir_all(&dir).unwrap();
    let (square, wide, junk) = (
        dir.join("square.png"),
        dir.join("wide.png"),
        dir.join("junk.png"),
    );
    write_png(&square, 32, 32);
    write_png(&wide, 32, 16);
    std::fs::write(&junk, b"not a png").unwrap();
    let camera = dir.join("camera.json");
    std::fs::write(
        &camera,
        r#"{"eye": [0.8, 0.5, 0.8], "at": [0.2, 0.1, 0.2], "lights": [{"position": [0.5, 0.9, 0.5], "color": [1, 1, 1]}]}"#,
    )
    .unwrap();
    let out_dir = dir.join("out");
    let run = |image: &Path, camera: Option<&Path>| {
        let mut args = vec!["reconstruct", "--run", &t.run, "--input", path(image)];
        args.extend(["--out", path(&out_dir), "--frames", "2"]);
        if let Some(c) = camera {
            args.extend(["--camera", path(c)]);
        }
        pix2scene(&args)
    };
    assert_fails_with(
        &run(&square, None),
        "square.png: a bare image needs --camera FILE.json with its camera and lights",
    );
    assert_fails_with(
        &run(&wide, Some(&camera)),
        "wide.png: image is 32×16 pixels; a square image is needed",
    );
    assert_fails_with(&run(&junk, Some(&camera)), "junk.png: not a readable PNG");
    let no_lights = dir.join("no-lights.json");
    std::fs::write(
        &no_lights,
        r#"{"eye": [1, 1, 1], "at": [0, 0, 0], "lights": []}"#,
    )
    .unwrap();
    assert_fails_with(
        &run(&square, Some(&no_lights)),
        "no-lights.json: lights: 0 given, expected 1 to 3",
    );
    assert_succeeded(&run(&square, Some(&camera)));
}

/// PNG width and height from its header.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    let be = |o: usize| u32::from_be_bytes(bytes[o..o + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn sample_interpolate_and_report_write_their_files() {
    let t = trained();
    let grid = t.dir.join("grid.png");
    assert_succeeded(&pix2scene(&[
        "sample",
        "--run",
        &t.run,
        "--out",
        path(&grid),
        "--count",
        "3",
    ]));
    assert_eq!(png_size(&grid), (3 * 34 - 2, 3 * 34 - 2));
    let strip = t.dir.join("strip.png");
    assert_succeeded(&pix2scene(&[
        "interpolate",
        "--run",
        &t.run,
        "--data",
        &t.test,
        "--from",
        "0",
        "--to",
        "4",
        "--steps",
        "3",
        "--out",
        path(&strip),
    ]));
    assert_eq!(png_size(&strip), (5 * 34 - 2, 3 * 34 - 2));
    let out = pix2scene(&[
        "interpolate",
        "--run",
        &t.run,
        "--data",
        &t.test,
        "--to",
        "5",
        "--out",
        path(&strip),
    ]);
    assert_fails_with(
        &out,
        "record 5 is out of range (the dataset holds 5 records)",
    );
    let report = t.dir.join("report.html");
    let out = pix2scene(&[
        "report",
        "--run",
        &t.run,
        "--data",
        &t.test,
        "--out",
        path(&report),
        "--limit",
        "2",
        "--examples",
        "2",
        "--quiet",
    ]);
    assert_succeeded(&out);
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("<table>") && html.contains("<td>0.087 (Table 1)</td>"));
    assert!(
        html.contains("<h2>View extrapolation</h2>") && html.contains("data:image/gif;base64,")
    );
    // `--snap-edges` adds a column whose figures are `eval --snap-edges`'s.
    let out = pix2scene(&[
        "report",
        "--run",
        &t.run,
        "--data",
        &t.test,
        "--out",
        path(&report),
        "--limit",
        "2",
        "--examples",
        "1",
        "--views",
        "0",
        "--snap-edges",
        "--post",
        "snap,guided",
        "--quiet",
    ]);
    assert_succeeded(&out);
    let html = std::fs::read_to_string(&report).unwrap();
    let first_row = html.split("<td>Hausdorff-F (max)</td>").nth(1).unwrap();
    let columns: Vec<&str> = first_row.split("<td>").skip(2).take(2).collect();
    assert!(html.contains("<th>edges snapped</th>"), "{html}");
    assert!(html.contains("<th>post-processed</th>"), "{html}");
    for (column, flags) in columns
        .iter()
        .zip([["--snap-edges", "--json"], ["--post=snap,guided", "--json"]])
    {
        let mut args = vec![
            "eval", "--run", &t.run, "--data", &t.test, "--limit", "2", "--views", "0",
        ];
        args.extend(flags);
        let out = pix2scene(&args);
        assert_succeeded(&out);
        let v: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim_end()).unwrap();
        let figure = v["views"]["0"]["hausdorff_f"].as_f64().unwrap();
        assert!(
            column.starts_with(&format!("{figure:.4} (")),
            "{columns:?} against {figure} ({flags:?})"
        );
    }
}
