//! Steady-state decoding and encoding allocate nothing: a counting global
//! allocator watches this thread while a realistic telemetry stream is
//! encoded and decoded.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use penlab_protocol::MAX_WIRE_FRAME;
use penlab_protocol::codec::{Decoder, encode_packet};
use penlab_protocol::message::MessageView;
use penlab_protocol::samples;

struct Counting;

thread_local! {
    static WATCHING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY-free wrapper: forwards to the system allocator, counting calls made
// on a watched thread.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if WATCHING.with(Cell::get) {
            ALLOCATIONS.with(|c| c.set(c.get() + 1));
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if WATCHING.with(Cell::get) {
            ALLOCATIONS.with(|c| c.set(c.get() + 1));
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn watched<T>(f: impl FnOnce() -> T) -> (T, u64) {
    ALLOCATIONS.with(|c| c.set(0));
    WATCHING.with(|w| w.set(true));
    let out = f();
    WATCHING.with(|w| w.set(false));
    (out, ALLOCATIONS.with(Cell::get))
}

#[test]
fn steady_state_decoding_allocates_nothing() {
    // Built outside the watch: the test's own input.
    let mut stream = Vec::new();
    let mut frame = [0u8; MAX_WIRE_FRAME];
    for second in 0..10u16 {
        for p in samples::telemetry_second(15_000, second.wrapping_mul(94), u32::from(second) * 150)
        {
            let n = encode_packet(&p, &mut frame).unwrap();
            stream.extend_from_slice(&frame[..n]);
        }
    }
    let mut decoder = Decoder::new();

    let (decoded, allocations) = watched(|| {
        let mut count = 0u64;
        for chunk in stream.chunks(61) {
            decoder.feed(chunk, |r| {
                assert!(r.is_ok());
                count += 1;
            });
        }
        count
    });
    assert_eq!(decoded, 940, "every frame decoded");
    assert_eq!(allocations, 0, "decoding allocated {allocations} times");
}

#[test]
fn decoding_views_allocates_nothing() {
    // The fast path: the same stream, as borrowed views, every strike read.
    let mut stream = Vec::new();
    let mut frame = [0u8; MAX_WIRE_FRAME];
    for second in 0..10u16 {
        for p in samples::telemetry_second(15_000, second.wrapping_mul(94), u32::from(second) * 150)
        {
            let n = encode_packet(&p, &mut frame).unwrap();
            stream.extend_from_slice(&frame[..n]);
        }
    }
    let mut decoder = Decoder::new();

    let ((decoded, strikes), allocations) = watched(|| {
        let (mut count, mut strikes) = (0u64, 0u64);
        for chunk in stream.chunks(61) {
            decoder.feed_views(chunk, |r| {
                let view = r.expect("a valid frame");
                if let MessageView::StrikeBatch(batch) = view.message {
                    strikes += batch
                        .strikes()
                        .map(|s| u64::from(s.depth_um > 0))
                        .sum::<u64>();
                }
                count += 1;
            });
        }
        (count, strikes)
    });
    assert_eq!(decoded, 940, "every frame decoded");
    assert_eq!(strikes, 1_500, "every strike read");
    assert_eq!(
        allocations, 0,
        "decoding views allocated {allocations} times"
    );
}

#[test]
fn encoding_allocates_nothing() {
    let packets: Vec<_> = samples::telemetry_second(15_000, 0, 0).collect();
    let mut out = [0u8; MAX_WIRE_FRAME];
    let (bytes, allocations) = watched(|| {
        packets
            .iter()
            .map(|p| encode_packet(p, &mut out).unwrap())
            .sum::<usize>()
    });
    assert!(bytes > 0);
    assert_eq!(allocations, 0, "encoding allocated {allocations} times");
}

#[test]
fn the_counter_sees_allocations() {
    let (v, allocations) = watched(|| vec![1u8; 10]);
    assert_eq!(v.len(), 10);
    assert_eq!(allocations, 1);
}
