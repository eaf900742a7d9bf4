//! The making-of on the take-home page: the frames the painter gathered
//! ([`crate::painting::making_of`]) as an animated PNG (APNG: phones' browsers play it in an
//! `<img>`, without script).

use std::sync::Arc;

use image::RgbImage;
use image::imageops::FilterType;

/// Each frame is shown this long, the finished painting longer before the loop starts again.
const FRAME_MS: u16 = 350;
const LAST_FRAME_MS: u16 = 2000;

/// The animation's file at most; larger paintings are scaled down until it fits.
pub const MAX_BYTES: usize = 4 << 20;

/// The frames as an endlessly looping APNG at the size of the last one (the painting's;
/// earlier levels are smaller and are scaled up), scaled down until it is at most `max_bytes`.
pub fn encode_apng(frames: &[Arc<RgbImage>], max_bytes: usize) -> Result<Vec<u8>, String> {
    let last = frames.last().ok_or("no frames")?;
    let (mut width, mut height) = last.dimensions();
    loop {
        let bytes = encode_at(frames, width, height)?;
        if bytes.len() <= max_bytes || width <= 64 {
            return Ok(bytes);
        }
        // The area, and roughly the file, shrinks by the square of the scale.
        let scale = ((max_bytes as f64 / bytes.len() as f64).sqrt() * 0.95).min(0.9);
        width = ((width as f64 * scale) as u32).max(64);
        height = ((height as f64 * scale) as u32).max(1);
    }
}

fn encode_at(frames: &[Arc<RgbImage>], width: u32, height: u32) -> Result<Vec<u8>, String> {
    let err = |e: png::EncodingError| e.to_string();
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    encoder.set_animated(frames.len() as u32, 0).map_err(err)?;
    let mut writer = encoder.write_header().map_err(err)?;
    for (i, frame) in frames.iter().enumerate() {
        let delay = if i + 1 == frames.len() { LAST_FRAME_MS } else { FRAME_MS };
        writer.set_frame_delay(delay, 1000).map_err(err)?;
        if frame.dimensions() == (width, height) {
            writer.write_image_data(frame.as_raw()).map_err(err)?;
        } else {
            let scaled = image::imageops::resize(frame.as_ref(), width, height, FilterType::Triangle);
            writer.write_image_data(scaled.as_raw()).map_err(err)?;
        }
    }
    writer.finish().map_err(err)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(value: u8, side: u32) -> Arc<RgbImage> {
        Arc::new(RgbImage::from_pixel(side, side, image::Rgb([value, 0, 0])))
    }

    #[test]
    fn the_animation_has_every_frame_at_the_paintings_size_and_loops() {
        let frames = vec![frame(10, 8), frame(100, 16), frame(200, 16)];
        let bytes = encode_apng(&frames, MAX_BYTES).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!((info.width, info.height), (16, 16));
        let control = info.animation_control.expect("an APNG");
        assert_eq!((control.num_frames, control.num_plays), (3, 0));
    }

    #[test]
    fn a_large_making_of_is_scaled_down_to_its_budget() {
        // Noise compresses badly: 12 frames of 256x256 are ~2.3 MB unscaled.
        let mut seed = 1u32;
        let noisy: Vec<Arc<RgbImage>> = (0..12)
            .map(|_| {
                Arc::new(RgbImage::from_fn(256, 256, |_, _| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    image::Rgb([(seed >> 16) as u8, (seed >> 8) as u8, (seed >> 24) as u8])
                }))
            })
            .collect();
        let bytes = encode_apng(&noisy, 600 << 10).unwrap();
        assert!(bytes.len() <= 600 << 10, "{} bytes", bytes.len());
        let reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
        assert!(reader.info().width < 256 && reader.info().width >= 64);
    }
}
