//! Renderer benchmarks (divan): forward and forward+backward of the image (`render_image`, the
//! training path) of a batch of 6 depth maps at 64² and 128², fused kernel and tensor-op
//! reference, on the current thread count.
//!
//! `cargo bench -p pix2scene-render`; for the one-core figure set `RAYON_NUM_THREADS=1`.

use burn::tensor::{Device, Tensor, TensorData};
use divan::Bencher;
use pix2scene_render::{RenderImpl, RendererConfig, ShadeParams, bench::bench_depth};

fn main() {
    pix2scene_render::heap::retain_freed_memory();
    divan::main();
}

const BATCH: usize = 6;

fn setup(size: usize, implementation: RenderImpl) -> impl Fn(bool) {
    let device = Device::flex().autodiff();
    let params = ShadeParams::default();
    let renderer = RendererConfig::from_shading(size, &params.shading())
        .with_implementation(implementation)
        .init(&device);
    let depth = Tensor::<3>::from_data(
        TensorData::new(bench_depth(size, BATCH), [BATCH, size, size]),
        &device,
    );
    let (pos, col) = params.light_arrays(BATCH).unwrap();
    let pos = Tensor::<3>::from_data(TensorData::new(pos, [BATCH, 3, 3]), &device);
    let col = Tensor::<3>::from_data(TensorData::new(col, [BATCH, 3, 3]), &device);
    move |backward: bool| {
        let d = if backward {
            depth.clone().require_grad()
        } else {
            depth.clone()
        };
        let image = renderer.render_image(d.clone(), pos.clone(), col.clone());
        if backward {
            let grads = image.sum().backward();
            divan::black_box(d.grad(&grads).unwrap().into_data());
        } else {
            divan::black_box(image.into_data());
        }
    }
}

#[divan::bench(args = [64, 128])]
fn fused_forward(bencher: Bencher, size: usize) {
    let step = setup(size, RenderImpl::Fused);
    bencher.bench_local(|| step(false));
}

#[divan::bench(args = [64, 128])]
fn fused_forward_backward(bencher: Bencher, size: usize) {
    let step = setup(size, RenderImpl::Fused);
    bencher.bench_local(|| step(true));
}

#[divan::bench(args = [64, 128], sample_count = 10)]
fn reference_forward_backward(bencher: Bencher, size: usize) {
    let step = setup(size, RenderImpl::Reference);
    bencher.bench_local(|| step(true));
}
