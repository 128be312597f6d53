//! Forward + backward time of each network at the CPU preset (64², width 32, batch 6, z 128).
//!
//! `cargo bench -p pix2scene-model --bench networks [iterations]` prints one line per network
//! with the median and the minimum over the iterations (the minimum is the steadier figure on a
//! shared machine). Plain timing (no bench framework) to keep the dependency list short.

use std::time::Instant;

use burn::tensor::{Device, Distribution, Tensor};
use pix2scene_model::{CriticConfig, DecoderConfig, EncoderConfig, gradient_penalty};

/// Median and minimum wall time of `f`, ms.
fn time_ms(iterations: usize, mut f: impl FnMut()) -> (f64, f64) {
    f(); // warm-up
    let mut times: Vec<f64> = (0..iterations)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[0])
}

fn main() {
    let (r, w, z_dim, batch) = (64, 32, 128, 6);
    let iterations = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(7);
    let device = Device::flex().autodiff();
    let encoder = EncoderConfig::new(r)
        .with_width(w)
        .with_z_dim(z_dim)
        .init(&device);
    let decoder = DecoderConfig::new(r)
        .with_width(w)
        .with_z_dim(z_dim)
        .init(&device);
    let critic = CriticConfig::new(r)
        .with_width(w)
        .with_z_dim(z_dim)
        .init(&device);
    let image = || Tensor::<4>::random([batch, 3, r, r], Distribution::Default, &device);
    let code = || Tensor::<2>::random([batch, z_dim], Distribution::Normal(0.0, 1.0), &device);
    let camera = Some(Tensor::<2>::random(
        [batch, 3],
        Distribution::Default,
        &device,
    ));
    println!("{r}², width {w}, z {z_dim}, batch {batch}; median and min of {iterations}, ms");

    let (t, m) = time_ms(iterations, || {
        let _ = encoder.forward(image(), camera.clone()).sum().backward();
    });
    println!("encoder forward+backward   {t:8.1} {m:8.1}");
    let (t, m) = time_ms(iterations, || {
        let _ = decoder
            .forward(code(), camera.clone(), None)
            .sum()
            .backward();
    });
    println!("decoder forward+backward   {t:8.1} {m:8.1}");
    let (t, m) = time_ms(iterations, || {
        let _ = critic
            .forward(image(), code(), camera.clone(), None)
            .sum()
            .backward();
    });
    println!("critic forward+backward    {t:8.1} {m:8.1}");
    let (t, m) = time_ms(iterations, || {
        let alpha = Tensor::<1>::random([batch], Distribution::Default, &device);
        let gp = gradient_penalty(
            &critic,
            (image(), code()),
            (image(), code()),
            camera.clone(),
            None,
            alpha,
        );
        let _ = gp.backward();
    });
    println!("gradient penalty fwd+bwd   {t:8.1} {m:8.1}");
    let (t, m) = time_ms(iterations, || {
        let alpha = Tensor::<1>::random([batch], Distribution::Default, &device);
        let (real, fake) = (image(), image());
        let (z_real, z_fake) = (code(), code());
        let loss = critic
            .forward(fake.clone(), z_fake.clone(), camera.clone(), None)
            .mean()
            - critic
                .forward(real.clone(), z_real.clone(), camera.clone(), None)
                .mean()
            + gradient_penalty(
                &critic,
                (real, z_real),
                (fake, z_fake),
                camera.clone(),
                None,
                alpha,
            )
            .mul_scalar(10.0);
        let _ = loss.backward();
    });
    println!(
        "critic step loss fwd+bwd   {t:8.1} {m:8.1}  (2 critic passes + penalty, no optimizer)"
    );
}
