//! Conversions between `image` buffers and `[1, 3, H, W]` RGB tensors with values 0..255.

use std::path::Path;

use image::{RgbImage, imageops::FilterType};
use tch::{Device, Kind, Tensor};

use super::EngineError;

/// Decoding limits for every image the installation reads (style images, stills, uploads):
/// a small file that claims 50000x50000 px is refused from its header, before any memory
/// is taken.
pub const MAX_IMAGE_EDGE: u32 = 8192;
/// At most this much memory for one decode.
pub const MAX_IMAGE_BYTES: u64 = 256 << 20;

fn limits() -> image::Limits {
    let mut l = image::Limits::default();
    l.max_image_width = Some(MAX_IMAGE_EDGE);
    l.max_image_height = Some(MAX_IMAGE_EDGE);
    l.max_alloc = Some(MAX_IMAGE_BYTES);
    l
}

/// Reads a PNG/JPEG into RGB, with an error that names the file and the cause.
pub fn load_rgb(path: &Path) -> Result<RgbImage, EngineError> {
    let err = |reason: String| EngineError::Image { path: path.to_path_buf(), reason };
    let mut reader = image::ImageReader::open(path).map_err(|e| err(e.to_string()))?;
    reader.limits(limits());
    let reader = reader.with_guessed_format().map_err(|e| err(e.to_string()))?;
    let img = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => err(format!(
            "too large to decode ({e}); at most {MAX_IMAGE_EDGE}x{MAX_IMAGE_EDGE} px and {} MiB",
            MAX_IMAGE_BYTES >> 20
        )),
        e => err(format!("cannot decode: {e}")),
    })?;
    if img.width() < 8 || img.height() < 8 {
        return Err(err(format!("{}x{} is too small (at least 8x8)", img.width(), img.height())));
    }
    Ok(img.to_rgb8())
}

/// Decodes an image held in memory (an upload) with the same limits as [`load_rgb`]; the
/// error says why in words a curator can act on.
pub fn decode_rgb(bytes: &[u8]) -> Result<RgbImage, String> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("cannot read: {e}"))?;
    if reader.format().is_none() {
        return Err("this is not a PNG or JPEG image".into());
    }
    reader.limits(limits());
    let img = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => {
            format!(
                "it is too large: at most {MAX_IMAGE_EDGE}x{MAX_IMAGE_EDGE} px and {} MiB decoded",
                MAX_IMAGE_BYTES >> 20
            )
        }
        image::ImageError::Unsupported(_) => "this is not a PNG or JPEG image".into(),
        e => format!("it does not decode ({e})"),
    })?;
    if img.width() < 8 || img.height() < 8 {
        return Err(format!("{}x{} px is too small (at least 8x8)", img.width(), img.height()));
    }
    Ok(img.to_rgb8())
}

/// [`load_rgb`], then scaled down once so the longer edge is at most `long_edge` (what is
/// kept in memory is never larger than what will be used).
pub fn load_rgb_at_most(path: &Path, long_edge: u32) -> Result<RgbImage, EngineError> {
    Ok(shrink_to(load_rgb(path)?, long_edge))
}

/// The image itself when it fits in `long_edge`, else a smaller copy.
pub fn shrink_to(img: RgbImage, long_edge: u32) -> RgbImage {
    if img.width().max(img.height()) <= long_edge {
        return img;
    }
    let (w, h) = fit_long_edge(img.width(), img.height(), long_edge);
    resize(&img, w, h)
}

/// Width and height with the longer edge equal to `long_edge`, keeping the aspect ratio.
pub fn fit_long_edge(width: u32, height: u32, long_edge: u32) -> (u32, u32) {
    let long = width.max(height) as f64;
    let scale = long_edge as f64 / long;
    let w = ((width as f64 * scale).round() as u32).max(1);
    let h = ((height as f64 * scale).round() as u32).max(1);
    (w, h)
}

pub fn resize(img: &RgbImage, width: u32, height: u32) -> RgbImage {
    if img.width() == width && img.height() == height {
        return img.clone();
    }
    image::imageops::resize(img, width, height, FilterType::Triangle)
}

pub fn to_tensor(img: &RgbImage, device: Device) -> Tensor {
    let (w, h) = img.dimensions();
    Tensor::from_data_size(img.as_raw(), &[h as i64, w as i64, 3], Kind::Uint8)
        .to_device(device)
        .permute([2, 0, 1])
        .unsqueeze(0)
        .to_kind(Kind::Float)
        // NCHW memory, like every tensor made from it: the permuted HWC strides would make
        // the convolutions pick other kernels for this one tensor (other rounding, and on a
        // GPU another speed).
        .contiguous()
}

/// Clamps to 0..255 and copies a `[1,3,H,W]` tensor back into an image.
pub fn from_tensor(t: &Tensor) -> RgbImage {
    let t = t.detach().squeeze_dim(0).clamp(0.0, 255.0).round().to_kind(Kind::Uint8).permute([1, 2, 0]);
    let t = t.to_device(Device::Cpu).contiguous();
    let size = t.size();
    let (h, w) = (size[0] as u32, size[1] as u32);
    let mut data = vec![0u8; (w * h * 3) as usize];
    let n = data.len();
    t.copy_data_u8(&mut data, n);
    RgbImage::from_raw(w, h, data).expect("buffer matches dimensions")
}

/// Bilinear resize of a `[1,3,H,W]` tensor on its own device.
pub fn resize_tensor(t: &Tensor, width: u32, height: u32) -> Tensor {
    let s = t.size();
    if s[2] == height as i64 && s[3] == width as i64 {
        return t.shallow_clone();
    }
    t.upsample_bilinear2d([height as i64, width as i64], false, None, None)
}

/// Luminance of `painting` with the chroma (I, Q of YIQ) of `photo`.
pub fn keep_chroma(painting: &Tensor, photo: &Tensor) -> Tensor {
    let dev = painting.device();
    let to_yiq = Tensor::from_slice(&[0.299f32, 0.587, 0.114, 0.596, -0.274, -0.322, 0.211, -0.523, 0.312])
        .view([3, 3])
        .to_device(dev);
    let from_yiq = to_yiq.inverse();
    let apply = |m: &Tensor, img: &Tensor| {
        let s = img.size();
        m.matmul(&img.reshape([3, s[2] * s[3]])).reshape([1, 3, s[2], s[3]])
    };
    let p = apply(&to_yiq, painting);
    let c = apply(&to_yiq, photo);
    let mixed = Tensor::cat(&[p.narrow(1, 0, 1), c.narrow(1, 1, 2)], 1);
    apply(&from_yiq, &mixed).clamp(0.0, 255.0)
}

/// PNG bytes of an image (lossless: finished paintings, photos sent to a painter).
pub fn encode_png(img: &RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).expect("PNG encoding into memory cannot fail");
    out.into_inner()
}

/// JPEG bytes at `quality` (snapshots of a painting in progress: a tenth of the PNG's bytes).
pub fn encode_jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .expect("JPEG encoding into memory cannot fail");
    out
}
