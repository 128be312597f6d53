//! libFuzzer target: the `IQTT_ANSWERS` target of pix2scene-fuzz.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pix2scene_fuzz::check_or_panic(&pix2scene_fuzz::targets::IQTT_ANSWERS, data);
});
