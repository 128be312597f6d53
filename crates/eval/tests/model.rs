//! A trained model in use: loading it from a run or model directory, scoring it (and the
//! image-blind baselines) at every view, reconstructing, sampling, interpolating and the report.
//! One tiny model is trained once (configs/tiny-32.toml, a few steps) for all tests.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::Engine;
use pix2scene_eval::report::{ReportOptions, write_report};
use pix2scene_eval::{
    BaselineKind, CheckpointChoice, DepthPredictor, EdgeSnap, EvalOptions, EvalResult,
    GuidedMedian, ImageBlind, Metric, PixelRays, PostOp, PostPipeline, PostProcessed,
    ReconstructOptions, Result, TrainedModel, ViewWarp, evaluate, interpolation_strip, mse_depth,
    open_room_dataset, orbit_camera, read_record, reconstruct, sample_grid,
};
use pix2scene_scene::dataset::{ShardPart, WriteOptions, write_dataset};
use pix2scene_scene::{Generator, GeneratorConfig, Preset, Sample};
use pix2scene_train::{TrainOptions, train};

/// Scratch files of this test process: a run, a test set and a training set.
struct Fixture {
    dir: PathBuf,
    run: PathBuf,
    test: PathBuf,
    train: PathBuf,
}

fn dataset(dir: &Path, preset: Preset, size: usize, count: u64, seed: u64) {
    let generator = Generator::new(GeneratorConfig::new(preset, size, seed)).unwrap();
    let options = WriteOptions {
        count,
        part: ShardPart::ALL,
        records_per_shard: Some(4),
        force: true,
        previews: 0,
    };
    write_dataset(&generator, dir, &options, &|_| {}).unwrap();
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("p2s-eval-model-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let run = dir.join("run");
        let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/tiny-32.toml");
        let options = TrainOptions {
            config: Some(config),
            out: run.clone(),
            overrides: vec!["run.steps=4".into(), "run.checkpoint_every=2".into()],
            ..TrainOptions::default()
        };
        train(&options, &mut ()).unwrap();
        let (test, train_set) = (dir.join("test"), dir.join("train"));
        dataset(&test, Preset::Boxes, 32, 6, 11);
        dataset(&train_set, Preset::Boxes, 32, 12, 12);
        Fixture {
            dir,
            run,
            test,
            train: train_set,
        }
    })
}

fn model(choice: CheckpointChoice) -> TrainedModel {
    let f = fixture();
    let scenes = open_room_dataset(&f.test, None)
        .unwrap()
        .manifest()
        .config
        .clone();
    TrainedModel::load(&f.run, choice, Some(&scenes)).unwrap()
}

/// Evaluates the predictor `make` builds on the test set with `threads` threads (the predictor
/// is built on the pool, as `pix2scene eval` builds it on its global pool).
fn eval_with<P: DepthPredictor>(
    make: impl FnOnce() -> P + Send,
    threads: usize,
    batch: usize,
) -> EvalResult {
    let options = EvalOptions {
        batch,
        ..EvalOptions::default()
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| evaluate(&fixture().test, &make(), &options, &mut |_, _| {}))
        .unwrap()
}

/// Predicts the ground truth of every view (checking that each view's camera is the record's
/// turned by the view's angle).
struct Oracle;

impl DepthPredictor for Oracle {
    fn resolution(&self) -> usize {
        32
    }
    fn label(&self) -> String {
        "oracle".into()
    }
    fn predict(&self, sources: &[Sample], views: &[Vec<Sample>]) -> Result<Vec<Vec<f32>>> {
        for (view, angle) in views.iter().zip([0.0, 35.0, 55.0, 80.0]) {
            for (s, v) in sources.iter().zip(view) {
                assert_eq!(v.camera, orbit_camera(&s.camera, angle));
            }
        }
        Ok(views
            .iter()
            .map(|v| v.iter().flat_map(|s| s.frame.depth.clone()).collect())
            .collect())
    }
}

#[test]
fn the_true_depth_scores_zero_on_every_metric_at_every_view() {
    let result = eval_with(|| Oracle, 2, 4);
    assert_eq!(result.images, 6);
    assert_eq!(result.views.len(), 4);
    for (angle, summary) in &result.views {
        for m in Metric::ALL {
            assert!(
                summary.get(m).mean.abs() < 1e-9,
                "{angle}° {m:?}: {:?}",
                summary.get(m)
            );
        }
    }
}

#[test]
fn results_do_not_depend_on_thread_count_or_batch_size() {
    let a = eval_with(|| model(CheckpointChoice::Last), 1, 2);
    let b = eval_with(|| model(CheckpointChoice::Last), 2, 32);
    assert_eq!(a, b);
    assert_eq!(a.checkpoint.as_deref(), Some("last (step-4)"));
    assert!(a.views[0].1.get(Metric::MseDepth).mean > 0.0);
}

#[test]
fn the_per_pixel_mean_baseline_scores_as_a_direct_computation() {
    let f = fixture();
    let baseline = ImageBlind::measure(BaselineKind::PerPixelMean, &f.train).unwrap();
    let result = eval_with(|| baseline.clone(), 2, 4);
    let map = baseline.map();
    let reader = open_room_dataset(&f.test, None).unwrap();
    let direct: Vec<f64> = (0..6)
        .map(|i| {
            let s = read_record(&reader, &f.test, i).unwrap();
            mse_depth(&map, &s.frame.depth, &s.frame.mask).unwrap()
        })
        .collect();
    let mean = direct.iter().sum::<f64>() / 6.0;
    let got = result.views[0].1.get(Metric::MseDepth).mean;
    assert!((got - mean).abs() < 1e-12, "{got} vs {mean}");
    assert_eq!(
        result.checkpoint.as_deref(),
        Some("baseline per-pixel-mean over 12 scenes")
    );
    // On a fixed room the per-pixel mean beats the global mean at every view.
    let global = ImageBlind::measure(BaselineKind::GlobalMean, &f.train).unwrap();
    let g = eval_with(|| global, 2, 4);
    for ((a, p), (_, q)) in result.views.iter().zip(&g.views) {
        assert!(
            p.get(Metric::MseDepth).mean < q.get(Metric::MseDepth).mean,
            "{a}°"
        );
    }
}

#[test]
fn a_model_directory_loads_the_weights_of_its_checkpoint() {
    let f = fixture();
    let models = f.dir.join("models").join("tiny");
    std::fs::create_dir_all(&models).unwrap();
    std::fs::copy(f.run.join("config.toml"), models.join("config.toml")).unwrap();
    for file in ["encoder.bpk", "decoder.bpk"] {
        let from = f.run.join("checkpoints/step-00000002").join(file);
        std::fs::copy(from, models.join(file)).unwrap();
    }
    let scenes = open_room_dataset(&f.test, None)
        .unwrap()
        .manifest()
        .config
        .clone();
    let load = || TrainedModel::load(&models, CheckpointChoice::Best, Some(&scenes)).unwrap();
    assert_eq!(load().checkpoint(), "model");
    assert_eq!(model(CheckpointChoice::Step(2)).checkpoint(), "step-2");
    let a = eval_with(load, 2, 8);
    let b = eval_with(|| model(CheckpointChoice::Step(2)), 2, 8);
    assert_eq!(a.views, b.views);
    assert_ne!(
        a.views,
        eval_with(|| model(CheckpointChoice::Step(4)), 2, 8).views
    );
}

#[test]
fn bad_runs_and_datasets_are_refused_with_one_line_errors() {
    let f = fixture();
    let scenes = open_room_dataset(&f.test, None)
        .unwrap()
        .manifest()
        .config
        .clone();
    let load = |dir: &Path, choice| {
        TrainedModel::load(dir, choice, Some(&scenes))
            .err()
            .unwrap()
            .to_string()
    };
    let empty = f.dir.join("empty-run");
    std::fs::create_dir_all(&empty).unwrap();
    let at = |dir: &Path| dir.display().to_string();
    assert_eq!(
        load(&empty, CheckpointChoice::Best),
        format!(
            "{}: no config.toml: not a run or model directory",
            at(&empty)
        )
    );
    std::fs::copy(f.run.join("config.toml"), empty.join("config.toml")).unwrap();
    assert_eq!(
        load(&empty, CheckpointChoice::Best),
        format!(
            "{}: no checkpoint: neither checkpoints/ nor encoder.bpk and decoder.bpk",
            at(&empty)
        )
    );
    assert_eq!(
        load(&f.run, CheckpointChoice::Step(3)),
        format!(
            "{}: no checkpoint step-3 (kept: step-2, step-4)",
            at(&f.run)
        )
    );
    assert_eq!(
        "step-x"
            .parse::<CheckpointChoice>()
            .unwrap_err()
            .to_string(),
        "--checkpoint: \"step-x\" is not best, last or step-N"
    );
    let m = model(CheckpointChoice::Best);
    let run_eval = |dir: &Path| {
        evaluate(dir, &m, &EvalOptions::default(), &mut |_, _| {})
            .unwrap_err()
            .to_string()
    };
    let small = f.dir.join("small");
    dataset(&small, Preset::Boxes, 16, 2, 1);
    assert_eq!(
        run_eval(&small),
        format!(
            "{}: images are 16×16 pixels, the model takes 32×32",
            at(&small)
        )
    );
    let iqtt = f.dir.join("iqtt");
    dataset(&iqtt, Preset::Iqtt, 32, 2, 1);
    assert_eq!(
        run_eval(&iqtt),
        format!(
            "{}: an iqtt dataset holds 3D-IQTT questions, not single views of rooms (score \
             those with `pix2scene iqtt`)",
            at(&iqtt)
        )
    );
}

fn read_ply(path: &Path) -> (usize, Vec<[f32; 6]>) {
    let bytes = std::fs::read(path).unwrap();
    let end = bytes
        .windows(11)
        .position(|w| w == b"end_header\n")
        .unwrap()
        + 11;
    let header = std::str::from_utf8(&bytes[..end]).unwrap();
    assert!(header.starts_with("ply\nformat binary_little_endian 1.0\n"));
    let count: usize = header
        .lines()
        .find_map(|l| l.strip_prefix("element vertex "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(bytes.len() - end, count * 27, "27 bytes per vertex");
    let f = |o: usize| f32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
    let vertices = (0..count)
        .map(|k| std::array::from_fn(|j| f(end + k * 27 + 4 * j)))
        .collect();
    (count, vertices)
}

#[test]
fn reconstruct_writes_maps_a_point_cloud_and_a_turntable_that_read_back() {
    let f = fixture();
    let m = model(CheckpointChoice::Best);
    let reader = open_room_dataset(&f.test, None).unwrap();
    let sample = read_record(&reader, &f.test, 2).unwrap();
    let out = f.dir.join("reconstruct");
    let options = ReconstructOptions {
        refine: 3,
        snap_edges: Some(EdgeSnap::default()),
        post: Some("snap,guided".parse().unwrap()),
        turntable_frames: 5,
    };
    let summary = reconstruct(&m, &sample, true, &out, &options).unwrap();
    let depth = pix2scene_render::npy::read_f32(&out.join("depth.npy")).unwrap();
    assert_eq!(depth.shape, [32, 32]);
    let normal = pix2scene_render::npy::read_f32(&out.join("normal.npy")).unwrap();
    assert_eq!(normal.shape, [32, 32, 3]);
    // One vertex per pixel, at the back-projected depth, with the normal map's normal.
    let (count, vertices) = read_ply(&out.join("surfels.ply"));
    assert_eq!(count, 32 * 32);
    let rays = PixelRays::new(sample.camera.fov_y_deg, 32);
    let points = rays.back_project(&depth.data, &[1; 1024]).unwrap();
    for (k, v) in vertices.iter().enumerate() {
        assert_eq!(v[..3], points[k][..]);
        assert_eq!(v[3..], normal.data[3 * k..3 * k + 3]);
    }
    let mut decoder = gif::DecodeOptions::new()
        .read_info(std::fs::File::open(out.join("turntable.gif")).unwrap())
        .unwrap();
    let mut frames = 0;
    while decoder.read_next_frame().unwrap().is_some() {
        frames += 1;
    }
    assert_eq!(frames, 5);
    // The network's output and the refined one are scored separately; refinement lowers the
    // image error it minimizes.
    let refined = summary.refined.as_ref().unwrap();
    assert!(refined.image_mse < summary.network.image_mse, "{summary:?}");
    assert!(summary.network.metrics.is_some() && refined.metrics.is_some());
    // The snapped maps are the network's map, edge-snapped, scored on their own.
    let snapped = pix2scene_render::npy::read_f32(&out.join("snapped-depth.npy")).unwrap();
    assert_eq!(snapped.data, EdgeSnap::default().apply(&depth.data, 32));
    assert!(summary.snapped.unwrap().metrics.is_some());
    // The post-processed maps are the snapped map, filtered by the colour-guided median of the
    // image.
    let post = pix2scene_render::npy::read_f32(&out.join("post-depth.npy")).unwrap();
    let want = GuidedMedian::default().apply(&snapped.data, &sample.frame.image, 32);
    assert_eq!(post.data, want);
    assert!(summary.post.unwrap().metrics.is_some());
    assert_eq!(
        summary.post_steps.as_deref(),
        Some("edges snapped (5 px, 0.1), colour-guided median (11 px, σ 0.05)")
    );
    assert!(summary.refined.is_some());
    for file in [
        "refined-depth.png",
        "refined-surfels.ply",
        "snapped-surfels.ply",
        "post-surfels.ply",
        "render.png",
        "camera.json",
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }
}

#[test]
fn eval_refinement_scores_the_map_that_reconstruct_refines_and_warps_it_to_turned_views() {
    let f = fixture();
    let reader = open_room_dataset(&f.test, None).unwrap();
    let sample = read_record(&reader, &f.test, 1).unwrap();
    let out = f.dir.join("reconstruct-refined");
    let options = ReconstructOptions {
        refine: 4,
        snap_edges: None,
        post: None,
        turntable_frames: 2,
    };
    reconstruct(
        &model(CheckpointChoice::Best),
        &sample,
        true,
        &out,
        &options,
    )
    .unwrap();
    let written = pix2scene_render::npy::read_f32(&out.join("refined-depth.npy")).unwrap();
    let refined = PostProcessed::new(
        model(CheckpointChoice::Best),
        PostPipeline::new(vec![PostOp::refine(4)]).unwrap(),
    );
    let own = vec![sample.clone()];
    let predicted = refined.predict(&own, std::slice::from_ref(&own)).unwrap();
    assert_eq!(predicted, vec![written.data.clone()]);
    assert!(
        refined.label().ends_with(", refined 4 steps"),
        "{}",
        refined.label()
    );

    // A turned view: the refined map warped into it, the network's map where it does not reach.
    let turned = turned(&own);
    let m = model(CheckpointChoice::Best);
    let network = m
        .predict(&own, std::slice::from_ref(&turned))
        .unwrap()
        .remove(0);
    let want = ViewWarp::default()
        .input(&written.data, &sample.camera, m.renderer_fov_y_deg(), 32)
        .view(&turned[0].camera, &network);
    assert_eq!(refined.predict(&own, &[turned]).unwrap(), vec![want]);
}

#[test]
fn snapped_predictions_are_the_models_maps_edge_snapped_at_every_view() {
    let sources = test_records(3);
    let views = [sources.clone(), turned(&sources)];
    let snap = EdgeSnap::new(3, 0.05).unwrap();
    let plain = model(CheckpointChoice::Best)
        .predict(&sources, &views)
        .unwrap();
    let snapped = PostProcessed::new(
        model(CheckpointChoice::Best),
        PostPipeline::new(vec![PostOp::Snap(snap)]).unwrap(),
    );
    let got = snapped.predict(&sources, &views).unwrap();
    assert_eq!(got.len(), 2);
    for (g, p) in got.iter().zip(&plain) {
        assert_eq!(*g, snap.apply_batch(p, 32));
    }
    assert!(
        snapped.label().ends_with(", edges snapped (3 px, 0.05)"),
        "{}",
        snapped.label()
    );
}

/// The first `count` records of the fixture's test set.
fn test_records(count: u64) -> Vec<Sample> {
    let f = fixture();
    let reader = open_room_dataset(&f.test, None).unwrap();
    (0..count)
        .map(|i| read_record(&reader, &f.test, i).unwrap())
        .collect()
}

/// The records seen by cameras turned by 35°.
fn turned(sources: &[Sample]) -> Vec<Sample> {
    sources
        .iter()
        .map(|s| {
            let mut t = s.clone();
            t.camera = orbit_camera(&s.camera, 35.0);
            t
        })
        .collect()
}

#[test]
fn a_pipeline_applies_its_steps_in_order_at_the_input_view_and_warps_them_to_turned_views() {
    // snap, guided, refine, guided: each step on the previous one's maps, as composed by hand.
    let sources = test_records(3);
    let m = model(CheckpointChoice::Best);
    let filter = GuidedMedian::new(2, 0.1).unwrap();
    let pipeline = PostPipeline::new(vec![
        PostOp::Snap(EdgeSnap::default()),
        PostOp::Guided(filter),
        PostOp::refine(3),
        PostOp::Guided(filter),
    ])
    .unwrap();
    let own = [sources.clone()];
    let network = m.predict(&sources, &own).unwrap().remove(0);
    let images: Vec<f32> = sources.iter().flat_map(|s| s.frame.image.clone()).collect();
    let batch = m.batch(&sources).unwrap();
    let mut want = EdgeSnap::default().apply_batch(&network, 32);
    want = filter.apply_batch(&want, &images, 32);
    assert_ne!(
        want,
        EdgeSnap::default().apply_batch(&network, 32),
        "the filter changes the maps"
    );
    want = m.refine(&want, &batch, 3);
    want = filter.apply_batch(&want, &images, 32);
    let post = PostProcessed::new(model(CheckpointChoice::Best), pipeline);
    assert_eq!(post.predict(&sources, &own).unwrap(), vec![want.clone()]);
    assert!(
        post.label().ends_with(
            ", edges snapped (5 px, 0.1), colour-guided median (5 px, σ 0.1), refined 3 steps, \
             colour-guided median (5 px, σ 0.1)"
        ),
        "{}",
        post.label()
    );
    // At a turned view each post-processed map is warped into the turned camera.
    let views = turned(&sources);
    let network = m
        .predict(&sources, std::slice::from_ref(&views))
        .unwrap()
        .remove(0);
    let warped: Vec<f32> = (0..3)
        .flat_map(|i| {
            ViewWarp::default()
                .input(
                    &want[i * 1024..(i + 1) * 1024],
                    &sources[i].camera,
                    m.renderer_fov_y_deg(),
                    32,
                )
                .view(&views[i].camera, &network[i * 1024..(i + 1) * 1024])
        })
        .collect();
    assert_ne!(warped, network, "the warp changes the turned maps");
    assert_eq!(
        post.predict(&sources, &[views, own[0].clone()]).unwrap(),
        vec![warped, want]
    );
}

#[test]
fn samples_and_interpolations_are_seeded_grids_whose_ends_are_the_reconstructions() {
    let f = fixture();
    let m = model(CheckpointChoice::Best);
    let views = m.held_out(3).unwrap();
    let grid = sample_grid(&m, &views, 5).unwrap();
    assert_eq!((grid.width, grid.height), (3 * 34 - 2, 3 * 34 - 2));
    assert_eq!(grid, sample_grid(&m, &views, 5).unwrap());
    assert_ne!(grid, sample_grid(&m, &views, 6).unwrap());
    let reader = open_room_dataset(&f.test, None).unwrap();
    let (a, b) = (
        read_record(&reader, &f.test, 0).unwrap(),
        read_record(&reader, &f.test, 1).unwrap(),
    );
    let strip = interpolation_strip(&m, &a, &b, 4).unwrap();
    assert_eq!((strip.width, strip.height), (6 * 34 - 2, 3 * 34 - 2));
    // Column 1 (t = 0) is a's own reconstruction rendered; column 0 is a itself.
    let batch = m.batch(std::slice::from_ref(&a)).unwrap();
    let (own, _) = m.render(&m.decode(&m.encode(&batch), &batch), &batch);
    let tile = |col: usize| -> Vec<f32> {
        (0..32)
            .flat_map(|r| {
                let at = (r * strip.width + col * 34) * 3;
                strip.data[at..at + 96].to_vec()
            })
            .collect()
    };
    let close = |x: &[f32], y: &[f32]| x.iter().zip(y).all(|(p, q)| (p - q).abs() < 1e-5);
    assert!(close(&tile(1), &own));
    assert!(close(&tile(0), &a.frame.image));
    assert!(interpolation_strip(&m, &a, &b, 1).is_err());
}

#[test]
fn the_report_is_one_page_with_the_tables_curves_and_embedded_images() {
    let f = fixture();
    let m = model(CheckpointChoice::Best);
    let out = f.dir.join("report.html");
    let mut options = ReportOptions {
        data: Some(f.test.clone()),
        examples: 2,
        ..ReportOptions::default()
    };
    options.eval.limit = Some(4);
    let result = write_report(&m, &options, &[], &out, &mut |_, _| {})
        .unwrap()
        .unwrap();
    assert_eq!(result.images, 4);
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    assert_eq!(html.matches("<table>").count(), 1);
    for m in Metric::ALL {
        assert_eq!(
            html.matches(&format!("<td>{}</td>", m.label())).count(),
            4,
            "{m:?}"
        );
    }
    // Table 1's box row beside ours at 0°, and our mean at 0° as the table shows it.
    assert!(html.contains("<td>0.087 (Table 1)</td>"));
    let mse = result.views[0].1.get(Metric::MseDepth);
    assert!(html.contains(&format!("{:.4} ± {:.4}", mse.mean, mse.std)));
    assert_eq!(html.matches("<svg").count(), 3);
    // Reconstructions, two view strips, the turntable, samples and the run's training grid:
    // every image embedded, none fetched.
    let images: Vec<&str> = html.split("src=\"data:").skip(1).collect();
    assert_eq!(images.len(), 6);
    assert_eq!(html.matches("src=\"").count(), 6);
    for (k, im) in images.iter().enumerate() {
        let (mime, rest) = im.split_once(";base64,").unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&rest[..rest.find('"').unwrap()])
            .unwrap();
        let magic: &[u8] = if mime == "image/gif" {
            b"GIF89a"
        } else {
            b"\x89PNG"
        };
        assert!(bytes.starts_with(magic), "image {k}: {mime}");
    }
    assert!(!out.with_extension("parts.tmp").exists());
}

#[test]
fn the_report_compares_other_models_and_the_baselines_on_the_same_records() {
    let f = fixture();
    let m = model(CheckpointChoice::Best);
    let other = model(CheckpointChoice::Step(2));
    let [per_pixel, global] = ImageBlind::measure_all(&f.train).unwrap();
    assert_eq!(
        per_pixel,
        ImageBlind::measure(BaselineKind::PerPixelMean, &f.train).unwrap()
    );
    assert_eq!(
        global,
        ImageBlind::measure(BaselineKind::GlobalMean, &f.train).unwrap()
    );
    let others: Vec<(String, &dyn DepthPredictor)> = vec![
        ("step two".into(), &other),
        ("per <pixel>".into(), &per_pixel),
        ("global".into(), &global),
    ];
    let out = f.dir.join("report-compare.html");
    let mut options = ReportOptions {
        data: Some(f.test.clone()),
        examples: 1,
        ..ReportOptions::default()
    };
    options.eval.views = vec![0.0];
    options.eval.limit = Some(3);
    let ours = write_report(&m, &options, &others, &out, &mut |_, _| {})
        .unwrap()
        .unwrap();
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(
        html.contains("<th>step two</th><th>per &lt;pixel&gt;</th><th>global</th><th>paper</th>")
    );
    // Each column holds the predictor's own evaluation on the same records, and ours over it.
    let mse = ours.views[0].1.get(Metric::MseDepth).mean;
    for (_, p) in &others {
        let theirs = evaluate(&f.test, *p, &options.eval, &mut |_, _| {}).unwrap();
        let t = theirs.views[0].1.get(Metric::MseDepth).mean;
        assert!(
            html.contains(&format!("<td>{t:.4} ({:.2}×)</td>", mse / t)),
            "{t}"
        );
    }
}

/// The records as the room's mirror image shows them: the scenes reflected across the plane
/// `x = z` (camera and world lights with `x` and `z` swapped), so the images come out flipped
/// left–right and the camera-frame lights have `x` negated.
fn mirrored(sources: &[Sample]) -> Vec<Sample> {
    let r = sources[0].frame.size_px;
    sources
        .iter()
        .map(|s| {
            let mut m = s.clone();
            for row in m.frame.image.chunks_mut(3 * r) {
                let flipped: Vec<f32> = row.chunks(3).rev().flatten().copied().collect();
                row.copy_from_slice(&flipped);
            }
            for v in [&mut m.camera.eye, &mut m.camera.at, &mut m.camera.up] {
                std::mem::swap(&mut v.x, &mut v.z);
            }
            for light in &mut m.lights {
                std::mem::swap(&mut light.position.x, &mut light.position.z);
            }
            for light in &mut m.lights_cam {
                light.position.x = -light.position.x;
            }
            m
        })
        .collect()
}

#[test]
fn mirror_averages_the_two_looks_alike_for_a_scene_and_its_mirror_image() {
    // mirror(s) = √(net(s) · flip(net(S s))); for the mirrored records S s the same step gives
    // √(net(S s) · flip(net(s))) = flip(mirror(s)), bit for bit, if the model's own mirroring
    // of the batch is the room's reflection.
    let sources = test_records(3);
    let m = model(CheckpointChoice::Best);
    let pipeline = PostPipeline::new(vec![PostOp::Mirror]).unwrap();
    let network = m
        .predict(&sources, std::slice::from_ref(&sources))
        .unwrap()
        .remove(0);
    let averaged = pipeline.apply(&m, &sources, &network).unwrap();
    let reflected = mirrored(&sources);
    let network_of_reflected = m
        .predict(&reflected, std::slice::from_ref(&reflected))
        .unwrap()
        .remove(0);
    let averaged_of_reflected = pipeline
        .apply(&m, &reflected, &network_of_reflected)
        .unwrap();
    let flip = |maps: &[f32]| -> Vec<f32> {
        maps.chunks(32)
            .flat_map(|row| row.iter().rev().copied())
            .collect()
    };
    assert_eq!(averaged_of_reflected, flip(&averaged));
    assert_ne!(averaged, network, "the mirrored look changes the maps");
    // The model's map of the mirrored image, flipped back, is its map of the reflected records.
    assert_eq!(
        m.mirrored_depth(&m.batch(&sources).unwrap()),
        flip(&network_of_reflected)
    );
}

#[test]
fn a_capped_refinement_is_the_refinement_held_within_its_cap() {
    let sources = test_records(2);
    let m = model(CheckpointChoice::Best);
    let network = m
        .predict(&sources, std::slice::from_ref(&sources))
        .unwrap()
        .remove(0);
    let refined = m.refine(&network, &m.batch(&sources).unwrap(), 3);
    let capped: PostPipeline = "refine:3:0.1".parse().unwrap();
    let got = capped.apply(&m, &sources, &network).unwrap();
    let cap = 0.001f32;
    let want: Vec<f32> = (refined.iter().zip(&network))
        .map(|(&r, &d)| r.clamp(d * (1.0 - cap), d * (1.0 + cap)))
        .collect();
    assert_eq!(got, want);
    let (binding, free) =
        (refined.iter().zip(&network)).partition::<Vec<_>, _>(|&(&r, &d)| (r - d).abs() > cap * d);
    assert!(
        !binding.is_empty() && !free.is_empty(),
        "the cap holds some pixels and leaves others: {} held, {} free",
        binding.len(),
        free.len()
    );
    // Within the cap, up to the rounding of d · (1 ± cap).
    assert!(
        (got.iter().zip(&network)).all(|(&g, &d)| (g - d).abs() <= (cap + 1e-6) * d),
        "a pixel moved past the cap"
    );
}
