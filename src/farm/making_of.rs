//! A farm painting's making-of on the wire. The painter's paint loop keeps a few of its
//! snapshots ([`crate::painting::PaintLoop`], as on the kiosk's own worker) and the painter
//! sends them in the result message itself, after the painting's PNG, as JPEG frames whose
//! lengths ride in
//! [`H_MAKING_OF`](super::protocol::H_MAKING_OF). One message: the making-of is kept,
//! fetched again by a kiosk that was cut off, expired and deleted exactly as the painting is,
//! and a kiosk that missed snapshots (or saw two painters' attempts) still gets all of it.

use std::sync::Arc;

use image::RgbImage;

use crate::engine::imageio;
use crate::painting::MakingOf;

/// Room left in a result message for its headers.
const HEADERS_ROOM: usize = 16 << 10;

/// JPEG quality of the frames: the take-home animation is made from them, not shown raw.
const QUALITY: u8 = 85;
/// Frames are not scaled below this longer edge to fit; the making-of is left out instead.
const SMALLEST_EDGE: u32 = 64;

/// A finished painting's result payload, within `max_payload`: its PNG, then the frames of
/// `making_of` before it (the painting is the last frame; the kiosk adds it back), and the
/// [`H_MAKING_OF`](super::protocol::H_MAKING_OF) value when there are frames.
pub fn result_payload(painting: &RgbImage, making_of: &MakingOf, max_payload: usize) -> (Vec<u8>, Option<String>) {
    let started = std::time::Instant::now();
    let png = imageio::encode_png(painting);
    let budget = max_payload.saturating_sub(png.len() + HEADERS_ROOM);
    let frames = encode(&making_of.frames_before_last(), budget);
    let bytes: usize = frames.iter().map(Vec::len).sum();
    tracing::debug!(
        "painter: result of {} KiB with {} making-of frames of {} KiB in {:.0} ms",
        png.len() >> 10,
        frames.len(),
        bytes >> 10,
        started.elapsed().as_secs_f64() * 1e3
    );
    pack(png, &frames)
}

/// The frames as JPEG, together at most `budget` bytes: all scaled down alike until they fit,
/// none when even small ones do not (the kiosk then shows the snapshots it saw).
pub fn encode(frames: &[Arc<RgbImage>], budget: usize) -> Vec<Vec<u8>> {
    let Some(longest) = frames.iter().map(|f| f.width().max(f.height())).max() else { return Vec::new() };
    let mut scale = 1.0f64;
    loop {
        // Small paintings are sent as they are; scaled down, not below the smallest edge.
        if scale < 1.0 && ((longest as f64 * scale) as u32) < SMALLEST_EDGE {
            return Vec::new();
        }
        let encoded = encode_all(frames, scale);
        let total: usize = encoded.iter().map(Vec::len).sum();
        if total <= budget {
            return encoded;
        }
        // The area, and roughly the bytes, shrink by the square of the scale.
        scale *= ((budget as f64 / total as f64).sqrt() * 0.95).min(0.9);
    }
}

/// Each frame on a thread of its own: a 1536 px JPEG is ~70 ms on a core, and the painting
/// waits for them.
fn encode_all(frames: &[Arc<RgbImage>], scale: f64) -> Vec<Vec<u8>> {
    std::thread::scope(|scope| {
        let jobs: Vec<_> = frames
            .iter()
            .map(|frame| {
                scope.spawn(move || {
                    let edge = ((frame.width().max(frame.height()) as f64 * scale) as u32).max(1);
                    let frame = imageio::shrink_to(frame.as_ref().clone(), edge);
                    imageio::encode_jpeg(&frame, QUALITY)
                })
            })
            .collect();
        jobs.into_iter().map(|j| j.join().expect("a JPEG encoding thread")).collect()
    })
}

/// The result's payload (the painting, then the frames) and the header's value.
pub fn pack(painting: Vec<u8>, frames: &[Vec<u8>]) -> (Vec<u8>, Option<String>) {
    if frames.is_empty() {
        return (painting, None);
    }
    let lengths = frames.iter().map(|f| f.len().to_string()).collect::<Vec<_>>().join(",");
    let mut payload = painting;
    for f in frames {
        payload.extend_from_slice(f);
    }
    (payload, Some(lengths))
}

/// The painting's bytes and the frames' from a result's payload. A header that does not
/// match the payload is ignored: the painting is then the whole payload, without frames.
pub fn unpack<'a>(header: Option<&str>, payload: &'a [u8]) -> (&'a [u8], Vec<&'a [u8]>) {
    let lengths: Option<Vec<usize>> = header.and_then(|h| h.split(',').map(|n| n.trim().parse().ok()).collect());
    let Some(lengths) = lengths else { return (payload, Vec::new()) };
    let total = lengths.iter().try_fold(0usize, |sum, n| sum.checked_add(*n));
    let Some(split) = total.and_then(|t| payload.len().checked_sub(t)).filter(|&s| s > 0) else {
        return (payload, Vec::new());
    };
    let (painting, mut rest) = payload.split_at(split);
    let mut frames = Vec::with_capacity(lengths.len());
    for n in lengths {
        let (frame, tail) = rest.split_at(n);
        frames.push(frame);
        rest = tail;
    }
    (painting, frames)
}

/// The frames of a result, decoded (a frame that does not decode is left out).
pub fn decode(frames: &[&[u8]]) -> Vec<Arc<RgbImage>> {
    frames.iter().filter_map(|f| imageio::decode_rgb(f).ok()).map(Arc::new).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(side: u32, seed: u32) -> Arc<RgbImage> {
        let mut s = seed.wrapping_mul(2654435761).max(1);
        Arc::new(RgbImage::from_fn(side, side, |_, _| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            image::Rgb([s as u8, (s >> 8) as u8, (s >> 16) as u8])
        }))
    }

    #[test]
    fn the_painting_and_its_frames_travel_in_one_payload() {
        let frames = vec![vec![1u8, 2, 3], vec![4u8; 5]];
        let (payload, header) = pack(b"PAINTING".to_vec(), &frames);
        assert_eq!(header.as_deref(), Some("3,5"));
        let (painting, back) = unpack(header.as_deref(), &payload);
        assert_eq!(painting, b"PAINTING");
        assert_eq!(back, vec![&[1u8, 2, 3][..], &[4u8; 5][..]]);
        // No frames: the payload is the painting, as before the making-of travelled.
        assert_eq!(pack(b"P".to_vec(), &[]), (b"P".to_vec(), None));
        assert_eq!(unpack(None, b"P"), (&b"P"[..], vec![]));
    }

    #[test]
    fn a_header_that_does_not_fit_the_payload_leaves_the_painting_whole() {
        for bad in ["9,9", "x", "3,", "8", "18446744073709551615,2"] {
            let (painting, frames) = unpack(Some(bad), b"PAINTING");
            assert_eq!((painting, frames.len()), (&b"PAINTING"[..], 0), "{bad:?}");
        }
    }

    #[test]
    fn frames_are_scaled_down_together_to_their_budget_or_left_out() {
        let frames = vec![noise(64, 1), noise(128, 2), noise(256, 3)];
        let whole = encode(&frames, usize::MAX);
        let whole_bytes: usize = whole.iter().map(Vec::len).sum();
        let decoded = decode(&whole.iter().map(Vec::as_slice).collect::<Vec<_>>());
        let sides: Vec<u32> = decoded.iter().map(|f| f.width()).collect();
        assert_eq!(sides, vec![64, 128, 256], "at their own sizes when they fit");

        let budget = whole_bytes / 3;
        let fitted = encode(&frames, budget);
        assert_eq!(fitted.len(), 3);
        assert!(fitted.iter().map(Vec::len).sum::<usize>() <= budget);
        let decoded = decode(&fitted.iter().map(Vec::as_slice).collect::<Vec<_>>());
        assert!(decoded[2].width() < 256 && decoded[2].width() >= SMALLEST_EDGE, "{}", decoded[2].width());
        assert!(decoded[0].width() < decoded[2].width(), "each keeps its size against the others");

        assert!(encode(&frames, 100).is_empty(), "no room: no making-of, and no error");
        assert!(encode(&[], 1 << 20).is_empty());
        assert_eq!(encode(&[noise(16, 4)], 1 << 20).len(), 1, "a tiny painting's frames are sent as they are");
    }
}
