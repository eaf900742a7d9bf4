//! Original abstract compositions made by code, shipped as the default artworks
//! (`gallery-painter make-artworks`): the project owns them, so no licence questions.
//! Each is a deterministic function of its seed.

// The literals 6.28, 3.14 and 1.57 are part of the pictures' definition (the shipped PNGs
// are exactly what this code makes); replacing them with exact constants would change them.
#![allow(clippy::approx_constant)]

use image::{Rgb, RgbImage};

pub struct Artwork {
    pub file: &'static str,
    pub title: &'static str,
    pub paint: fn(u32, u32, u64) -> RgbImage,
}

pub const ARTWORKS: &[Artwork] = &[
    Artwork { file: "swirling_night.png", title: "Swirling Night", paint: swirling_night },
    Artwork { file: "primary_rhythm.png", title: "Primary Rhythm", paint: primary_rhythm },
    Artwork { file: "ink_waves.png", title: "Ink Waves", paint: ink_waves },
    Artwork { file: "ember_field.png", title: "Ember Field", paint: ember_field },
    Artwork { file: "shattered_ochre.png", title: "Shattered Ochre", paint: shattered_ochre },
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
    fn range(&mut self, a: f32, b: f32) -> f32 {
        a + (b - a) * self.next()
    }
}

/// Smooth value noise in 0..1.
fn noise(x: f32, y: f32, seed: u64) -> f32 {
    let h = |i: i32, j: i32| {
        let mut z = seed ^ ((i as u64).wrapping_mul(0x9E37_79B9) ^ (j as u64).wrapping_mul(0x85EB_CA6B) << 1);
        z = (z ^ (z >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
        z = (z ^ (z >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        ((z >> 40) as f32) / (1u64 << 24) as f32
    };
    let (xi, yi) = (x.floor() as i32, y.floor() as i32);
    let (fx, fy) = (x - x.floor(), y - y.floor());
    let (sx, sy) = (fx * fx * (3.0 - 2.0 * fx), fy * fy * (3.0 - 2.0 * fy));
    let a = h(xi, yi) + (h(xi + 1, yi) - h(xi, yi)) * sx;
    let b = h(xi, yi + 1) + (h(xi + 1, yi + 1) - h(xi, yi + 1)) * sx;
    a + (b - a) * sy
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]
}

fn blend(img: &mut RgbImage, x: i32, y: i32, c: [f32; 3], alpha: f32) {
    if x < 0 || y < 0 || x >= img.width() as i32 || y >= img.height() as i32 {
        return;
    }
    let p = img.get_pixel_mut(x as u32, y as u32);
    for i in 0..3 {
        p[i] = (p[i] as f32 * (1.0 - alpha) + c[i] * alpha).clamp(0.0, 255.0) as u8;
    }
}

fn disc(img: &mut RgbImage, cx: f32, cy: f32, r: f32, c: [f32; 3], alpha: f32) {
    let ri = r.ceil() as i32;
    for dy in -ri..=ri {
        for dx in -ri..=ri {
            let d = ((dx * dx + dy * dy) as f32).sqrt();
            if d <= r {
                blend(img, cx as i32 + dx, cy as i32 + dy, c, alpha * (1.0 - (d / r).powi(4)));
            }
        }
    }
}

/// A brush stroke that follows `angle(x, y)` for `len` steps.
fn stroke(
    img: &mut RgbImage,
    mut x: f32,
    mut y: f32,
    len: usize,
    r: f32,
    c: [f32; 3],
    angle: &dyn Fn(f32, f32) -> f32,
) {
    for _ in 0..len {
        disc(img, x, y, r, c, 0.55);
        let a = angle(x, y);
        x += a.cos() * r * 0.7;
        y += a.sin() * r * 0.7;
    }
}

fn fill(w: u32, h: u32, f: impl Fn(f32, f32) -> [f32; 3]) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let c = f(x as f32 / w as f32, y as f32 / h as f32);
        Rgb([c[0] as u8, c[1] as u8, c[2] as u8])
    })
}

fn swirling_night(w: u32, h: u32, seed: u64) -> RgbImage {
    let mut img = fill(w, h, |_, v| mix([20.0, 40.0, 110.0], [40.0, 80.0, 150.0], v));
    let mut rng = Rng(seed | 1);
    let s = w.max(h) as f32;
    let centers: Vec<(f32, f32)> =
        (0..4).map(|_| (rng.range(0.1, 0.9) * w as f32, rng.range(0.1, 0.6) * h as f32)).collect();
    let angle = |x: f32, y: f32| {
        let mut a = noise(x / s * 3.0, y / s * 3.0, seed) * 6.28;
        for (cx, cy) in &centers {
            let d = ((x - cx).powi(2) + (y - cy).powi(2)).sqrt();
            a += (-d / (s * 0.15)).exp() * ((y - cy).atan2(x - cx) + 1.57 - a);
        }
        a
    };
    let palette = [
        [30.0, 60.0, 140.0],
        [70.0, 110.0, 190.0],
        [140.0, 170.0, 220.0],
        [230.0, 210.0, 90.0],
        [250.0, 240.0, 170.0],
        [15.0, 30.0, 70.0],
    ];
    for _ in 0..(w * h / 40) {
        let (x, y) = (rng.range(0.0, w as f32), rng.range(0.0, h as f32));
        let mut c = palette[(rng.next() * 3.0) as usize];
        if rng.next() < 0.12 {
            c = palette[3 + (rng.next() * 2.0) as usize];
        }
        if y > h as f32 * 0.75 && rng.next() < 0.7 {
            c = palette[5];
        }
        stroke(&mut img, x, y, 8 + (rng.next() * 10.0) as usize, rng.range(1.5, 3.2) * s / 512.0, c, &angle);
    }
    for (cx, cy) in &centers {
        for k in 0..60 {
            let r = rng.range(0.0, s * 0.05);
            let a = k as f32 * 0.4;
            disc(&mut img, cx + r * a.cos(), cy + r * a.sin(), s / 160.0, [250.0, 230.0, 120.0], 0.6);
        }
    }
    img
}

fn primary_rhythm(w: u32, h: u32, seed: u64) -> RgbImage {
    let mut img = fill(w, h, |u, v| mix([236.0, 228.0, 205.0], [220.0, 205.0, 170.0], (u + v) * 0.5));
    let mut rng = Rng(seed | 1);
    let s = w.max(h) as f32;
    let colors =
        [[200.0, 40.0, 40.0], [30.0, 60.0, 160.0], [240.0, 190.0, 40.0], [20.0, 20.0, 25.0], [40.0, 130.0, 90.0]];
    for _ in 0..18 {
        let (cx, cy, r) = (rng.range(0.0, w as f32), rng.range(0.0, h as f32), rng.range(0.03, 0.16) * s);
        let c = colors[(rng.next() * 5.0) as usize];
        let ring = rng.next() < 0.4;
        for y in (cy - r) as i32..(cy + r) as i32 {
            for x in (cx - r) as i32..(cx + r) as i32 {
                let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
                if d < r && (!ring || d > r * 0.75) {
                    blend(&mut img, x, y, c, 0.85);
                }
            }
        }
    }
    for _ in 0..22 {
        let (x0, y0) = (rng.range(0.0, w as f32), rng.range(0.0, h as f32));
        let a = rng.range(0.0, 3.14);
        let len = rng.range(0.2, 0.8) * s;
        let width = rng.range(1.0, 4.0) * s / 512.0;
        for t in 0..(len as i32) {
            disc(&mut img, x0 + a.cos() * t as f32, y0 + a.sin() * t as f32, width, [20.0, 20.0, 25.0], 0.9);
        }
    }
    img
}

fn ink_waves(w: u32, h: u32, seed: u64) -> RgbImage {
    let (fw, fh) = (w as f32, h as f32);
    let mut img = fill(w, h, |_, v| mix([235.0, 225.0, 200.0], [215.0, 200.0, 170.0], v));
    let mut rng = Rng(seed | 1);
    for band in 0..26 {
        let base = fh * (0.25 + band as f32 * 0.03);
        let amp = fh * rng.range(0.03, 0.09);
        let freq = rng.range(2.0, 5.0);
        let phase = rng.range(0.0, 6.28);
        let c = if band % 3 == 0 {
            [245.0, 245.0, 240.0]
        } else {
            mix([20.0, 50.0, 110.0], [60.0, 110.0, 160.0], rng.next())
        };
        for xi in 0..w {
            let x = xi as f32;
            let y = base + amp * (x / fw * freq * 6.28 + phase).sin() + amp * 0.4 * (x / fw * freq * 17.0).sin();
            let thick = fh * 0.012 * (1.0 + noise(x * 0.02, band as f32, seed));
            for t in 0..(thick as i32 * 3) {
                blend(&mut img, xi as i32, (y + t as f32) as i32, c, 0.8);
            }
        }
        // Foam: clusters of small white claws along the crest.
        for _ in 0..30 {
            let x = rng.range(0.0, fw);
            let y = base + amp * (x / fw * freq * 6.28 + phase).sin();
            disc(&mut img, x, y - 2.0, fh / 170.0, [250.0, 250.0, 245.0], 0.9);
        }
    }
    img
}

fn ember_field(w: u32, h: u32, seed: u64) -> RgbImage {
    let mut img = fill(w, h, |u, v| mix([60.0, 20.0, 30.0], [120.0, 50.0, 30.0], (u * 0.3 + v * 0.7).min(1.0)));
    let mut rng = Rng(seed | 1);
    let s = w.max(h) as f32;
    let palette = [
        [250.0, 200.0, 80.0],
        [240.0, 120.0, 40.0],
        [200.0, 50.0, 40.0],
        [110.0, 40.0, 90.0],
        [250.0, 240.0, 200.0],
        [60.0, 90.0, 140.0],
    ];
    for _ in 0..(w * h / 18) {
        let (x, y) = (rng.range(0.0, w as f32), rng.range(0.0, h as f32));
        let heat = noise(x / s * 4.0, y / s * 4.0, seed);
        let i = ((1.0 - heat) * 4.0 + rng.range(-0.8, 0.8)).clamp(0.0, 5.0) as usize;
        disc(&mut img, x, y, rng.range(1.2, 2.6) * s / 512.0, palette[i], 0.8);
    }
    img
}

fn shattered_ochre(w: u32, h: u32, seed: u64) -> RgbImage {
    let mut rng = Rng(seed | 1);
    let points: Vec<(f32, f32, [f32; 3])> = (0..60)
        .map(|_| {
            let palette = [
                [190.0, 140.0, 60.0],
                [120.0, 80.0, 40.0],
                [210.0, 190.0, 150.0],
                [70.0, 60.0, 50.0],
                [160.0, 100.0, 70.0],
                [100.0, 110.0, 100.0],
            ];
            (rng.range(0.0, w as f32), rng.range(0.0, h as f32), palette[(rng.next() * 6.0) as usize])
        })
        .collect();
    RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let (mut best, mut second, mut c) = (f32::MAX, f32::MAX, [0.0; 3]);
        for (px, py, pc) in &points {
            let d = (fx - px).powi(2) + (fy - py).powi(2);
            if d < best {
                second = best;
                best = d;
                c = *pc;
            } else if d < second {
                second = d;
            }
        }
        let edge = second.sqrt() - best.sqrt();
        let shade = 0.75 + 0.25 * noise(fx * 0.05, fy * 0.05, seed) + 0.1 * ((fx + fy) * 0.3).sin();
        let k = if edge < 2.5 { 0.3 } else { shade };
        Rgb([(c[0] * k).min(255.0) as u8, (c[1] * k).min(255.0) as u8, (c[2] * k).min(255.0) as u8])
    })
}
