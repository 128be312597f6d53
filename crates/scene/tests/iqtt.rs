//! 3D-IQTT questions across modules: today's questions pinned byte for byte, the hard questions'
//! invariants, determinism.

use std::path::PathBuf;

use pix2scene_scene::dataset::{ShardPart, WriteOptions, shard_file_name, write_dataset};
use pix2scene_scene::{
    Generator, GeneratorConfig, IqttOptions, Polycube, Preset, Shortcut, shortcut_accuracies,
};

/// FNV-1a, 64 bits: a hash whose definition cannot change under the test.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn temp_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("pix2scene-iqtt-{name}-{}", std::process::id()))
}

/// The bytes of the single shard of `count` questions written with `config`.
fn shard_bytes(config: GeneratorConfig, count: u64, name: &str) -> Vec<u8> {
    let dir = temp_dir(name);
    let options = WriteOptions {
        count,
        part: ShardPart::ALL,
        records_per_shard: None,
        force: true,
        previews: 0,
    };
    write_dataset(&Generator::new(config).unwrap(), &dir, &options, &|_| {}).unwrap();
    let bytes = std::fs::read(dir.join(shard_file_name(0))).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    bytes
}

/// The `iqtt` preset's records, with and without `--mirror-distractor`, are those written before
/// the hard questions existed (hashes taken at commit 1f7b737).
#[test]
fn iqtt_records_are_unchanged_by_the_hard_questions() {
    let plain = GeneratorConfig::new(Preset::Iqtt, 32, 5);
    let mut mirror = plain.clone();
    mirror.iqtt.mirror_distractor = true;
    let got = [
        fnv1a(&shard_bytes(plain, 6, "pinned-plain")),
        fnv1a(&shard_bytes(mirror, 6, "pinned-mirror")),
    ];
    assert_eq!(
        got,
        [0x7ef7_4fa6_675c_0597, 0xc8a9_56ab_5345_6299],
        "{got:x?}"
    );
}

fn hard_generator(size: usize, seed: u64, pool_size: usize) -> Generator {
    let mut config = GeneratorConfig::new(Preset::Iqtt, size, seed);
    config.iqtt = IqttOptions::hard();
    config.iqtt.pool_size = pool_size;
    Generator::new(config).unwrap()
}

#[test]
fn hard_questions_show_a_chiral_reference_its_mirror_and_a_same_size_foil() {
    let g = hard_generator(16, 7, 60);
    // (answer, mirror, foil) slots of every question: all six arrangements must occur.
    let mut arrangements = std::collections::BTreeMap::new();
    for i in 0..600 {
        let q = g.question(i);
        let shapes: Vec<Polycube> = q
            .shape_ids
            .iter()
            .map(|&id| g.iqtt_shape(id).unwrap())
            .collect();
        let reference = &shapes[0];
        let correct = q.answer as usize + 1;
        assert!(!reference.is_achiral(), "question {i}: reference is chiral");
        assert_eq!(
            shapes[correct], *reference,
            "question {i}: answer shows the reference"
        );
        let mut slots = [0usize; 3];
        slots[0] = correct;
        for k in (1..4).filter(|&k| k != correct) {
            assert_eq!(
                shapes[k].cells().len(),
                reference.cells().len(),
                "question {i}: distractor {k} has the reference's number of cubes"
            );
            // Canonical forms: equal exactly when equal up to rotation and translation.
            assert_ne!(
                shapes[k], *reference,
                "question {i}: distractor {k} is another shape"
            );
            if shapes[k] == reference.mirrored() {
                assert!(q.shape_ids[k] >= 60, "mirror images carry mirror ids");
                slots[1] = k;
            } else {
                slots[2] = k;
            }
        }
        assert!(
            slots[1] > 0 && slots[2] > 0,
            "question {i}: one mirror and one foil"
        );
        *arrangements.entry(slots).or_insert(0) += 1;
    }
    assert_eq!(arrangements.len(), 6, "{arrangements:?}");
    assert!(
        arrangements.values().all(|&n| (60..=140).contains(&n)),
        "arrangements near 100 each: {arrangements:?}"
    );
}

#[test]
fn hard_questions_are_the_same_bytes_for_a_seed_and_any_thread_count() {
    let config = |seed| {
        let mut c = GeneratorConfig::new(Preset::Iqtt, 16, seed);
        c.iqtt = IqttOptions::hard();
        c
    };
    let on_threads = |threads: usize, name: &str| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| shard_bytes(config(3), 12, name))
    };
    let one = on_threads(1, "hard-1");
    assert_eq!(one, on_threads(3, "hard-3"));
    assert_ne!(one, shard_bytes(config(4), 12, "hard-other-seed"));
}

#[test]
fn shortcuts_sit_near_chance_on_hard_questions_only() {
    let chance = 1.0 / 3.0;
    let hard = shortcut_accuracies(&hard_generator(32, 5, 1000), 0..900);
    for (s, a) in Shortcut::ALL.iter().zip(hard) {
        let [lo, hi] = a.interval_95();
        assert!(
            lo <= chance && chance <= hi,
            "{}: {a} on hard questions",
            s.name()
        );
    }
    let paper = Generator::new(GeneratorConfig::new(Preset::Iqtt, 32, 5)).unwrap();
    let [area, _] = shortcut_accuracies(&paper, 0..900);
    assert!(
        area.interval_95()[0] > 0.4,
        "area-nearest on paper-like questions: {area}"
    );
}

/// Scoring reads only the answer: `question_answer` is the rendered question's answer, for
/// paper-like and hard questions, and the answers are spread over the three positions.
#[test]
fn the_answer_alone_is_the_rendered_questions_answer() {
    let plain = Generator::new(GeneratorConfig::new(Preset::Iqtt, 16, 3)).unwrap();
    let hard = hard_generator(16, 3, 64);
    for generator in [&plain, &hard] {
        let answers: Vec<u8> = (0..24).map(|i| generator.question(i).answer).collect();
        let alone: Vec<u8> = (0..24).map(|i| generator.question_answer(i)).collect();
        assert_eq!(alone, answers);
        assert!((0..3).all(|a| answers.contains(&a)), "{answers:?}");
    }
}
