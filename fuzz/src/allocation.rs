//! A global allocator that counts live heap bytes per thread, and the peak reached while a
//! closure runs.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    /// Live bytes allocated by this thread (frees of memory allocated elsewhere may drive it
    /// below its starting point, hence signed).
    static LIVE: Cell<i64> = const { Cell::new(0) };
    /// Highest value of `LIVE` since the last reset.
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

/// The system allocator, counting each thread's live bytes and their peak.
pub struct CountingAllocator;

fn grow(bytes: usize) {
    // `try_with`: during thread teardown the counters may already be gone.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + bytes as i64;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

fn shrink(bytes: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get() - bytes as i64));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so it upholds
// `System`'s contract; the bookkeeping touches only const-initialized thread-locals, which never
// allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        // SAFETY: the caller's contract for `alloc`, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrink(layout.size());
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A realloc may move: old and new blocks are both live for a moment.
        grow(new_size);
        shrink(layout.size());
        // SAFETY: the caller's contract for `realloc`, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `f` and returns its result with the peak of live heap bytes this thread held above
/// what it held when `f` started. Allocations made by other threads are not counted, so the
/// parsers measured here must not hand work to a thread pool.
pub fn peak_heap<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let result = f();
    let peak = PEAK.with(Cell::get);
    (result, (peak - start).max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_counts_the_largest_live_block() {
        let ((), peak) = peak_heap(|| {
            let a = vec![0u8; 1 << 20];
            drop(a);
            let b = vec![0u8; 1000];
            std::hint::black_box(&b);
        });
        assert!((1 << 20..(1 << 20) + 4096).contains(&peak), "{peak}");
        let ((), peak) = peak_heap(|| {});
        assert_eq!(peak, 0);
    }
}
