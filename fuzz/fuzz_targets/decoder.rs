//! Feeds arbitrary bytes to the streaming decoder in chunks whose sizes come
//! from the input itself. Checks, beyond "no panic": the buffer bound holds,
//! every byte is counted, the same bytes in one piece give the same results,
//! the fast path (borrowed views) gives what the owned path gives, and every
//! decoded packet re-encodes to bytes that decode to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use penlab_protocol::codec::{Decoder, encode_packet};
use penlab_protocol::{MAX_ENCODED_FRAME, MAX_WIRE_FRAME};

fuzz_target!(|data: &[u8]| {
    let Some((&split_seed, bytes)) = data.split_first() else {
        return;
    };

    let mut whole = Vec::new();
    let mut decoder = Decoder::new();
    decoder.feed(bytes, |r| whole.push(r));
    whole.extend(decoder.finish().map(Err));
    assert_eq!(decoder.stats().bytes, bytes.len() as u64);

    let mut chunked = Vec::new();
    let mut decoder = Decoder::new();
    let step = usize::from(split_seed % 17) + 1;
    for chunk in bytes.chunks(step) {
        decoder.feed(chunk, |r| chunked.push(r));
        assert!(decoder.pending() <= MAX_ENCODED_FRAME);
    }
    chunked.extend(decoder.finish().map(Err));
    assert_eq!(whole, chunked, "chunking changed the result");

    let mut viewed = Vec::new();
    let mut decoder = Decoder::new();
    for chunk in bytes.chunks(step) {
        decoder.feed_views(chunk, |r| viewed.push(r.map(|v| v.to_packet())));
    }
    viewed.extend(decoder.finish().map(Err));
    assert_eq!(whole, viewed, "views and packets disagree");

    for packet in whole.iter().filter_map(|r| r.as_ref().ok()) {
        let mut out = [0u8; MAX_WIRE_FRAME];
        let n = encode_packet(packet, &mut out).expect("a decoded packet re-encodes");
        let mut again = Decoder::new();
        let mut input = &out[..n];
        let back = again
            .decode_packet(&mut input)
            .expect("one frame")
            .expect("valid");
        assert_eq!(&back, packet);
    }
});
