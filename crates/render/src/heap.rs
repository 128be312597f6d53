//! Process-wide allocator settings that the fused kernels and training rely on for speed.
//!
//! glibc's allocator returns the top of its heap to the system whenever more than a threshold
//! (128 KiB, adjusted at run time) lies free there, and serves large requests by fresh `mmap`s
//! that it unmaps on free. A training step, and the renderer's forward and backward, allocate
//! and free the same few megabytes of tensors and planes over and over, so with the defaults
//! they fault the same pages in again on every step: with the fused renderer's band planes held
//! from the forward to the backward pass that doubles its time, and it costs a training
//! iteration on `cpu-64` about 15 % (≈ 100 000 page faults per 10 iterations; measured on the
//! 2-core development machine). [`retain_freed_memory`] keeps freed memory for reuse instead.

/// Makes the allocator keep freed memory for reuse: every request comes from the heap rather
/// than from `mmap` (the threshold at glibc's largest, 32 MiB, and `mmap` switched off for the
/// larger buffers, such as `paper-128`'s patch matrices of up to 67 MB, whose fresh pages cost
/// 9 % of an iteration in page faults), and the heap is trimmed only when 1 GiB lies free at
/// its top. Memory use then stays at its high-water mark, which for training is the few hundred
/// megabytes of one step (1.6 GB at `paper-128`). Call it once at start-up, before the work
/// starts (the `pix2scene` binary and the benchmarks do); it does nothing on systems without
/// glibc.
pub fn retain_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const MMAP_THRESHOLD: libc::c_int = 32 << 20;
        const TRIM_THRESHOLD: libc::c_int = 1 << 30;
        // SAFETY: `mallopt` only changes parameters of the allocator, under its own lock; both
        // values are within the ranges glibc accepts (it returns 0 and changes nothing
        // otherwise, which leaves the defaults, so the results need no check).
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
            libc::mallopt(libc::M_MMAP_MAX, 0);
        }
    }
}
