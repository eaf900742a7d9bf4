//! `gallery-painter test-camera [options] -- COMMAND...`: runs COMMAND with a V4L2 test camera
//! present. The camera is `testcam/v4l2_testcam.c`, built with this binary and loaded with
//! LD_PRELOAD; this command renders the pictures it serves (YUYV and JPEG files) and its
//! configuration into a directory, then becomes COMMAND (exec: signals reach it directly).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use image::{Rgb, RgbImage};

use crate::capture::synthetic::SyntheticScene;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Formats {
    Yuyv,
    Mjpeg,
    Both,
}

#[derive(Args, Debug, Clone)]
pub struct TestCameraArgs {
    /// The name the camera reports (QUERYCAP card, /sys/class/video4linux/videoN/name).
    #[arg(long, default_value = "Gallery Test Camera")]
    pub name: String,
    /// It appears as /dev/video<index>.
    #[arg(long, default_value_t = 0)]
    pub index: u32,
    #[arg(long, value_enum, default_value = "both")]
    pub formats: Formats,
    /// Frame sizes offered, WxH.
    #[arg(long, value_delimiter = ',', default_value = "640x480,320x240")]
    pub sizes: Vec<String>,
    /// Frame rates offered.
    #[arg(long, value_delimiter = ',', default_value = "30,15")]
    pub fps: Vec<u32>,
    /// What it shows: `chart` (a colour chart), `scene` (the synthetic scene with a moving
    /// figure) or the path of an image file.
    #[arg(long, default_value = "chart")]
    pub picture: String,
    /// Frames rendered for the `scene` picture (then it loops).
    #[arg(long, default_value_t = 48)]
    pub frames: u32,
    /// Unplugged after this many frames (0: never).
    #[arg(long, default_value_t = 0)]
    pub unplug_after: u64,
    /// Plugged in again this many seconds after the unplug (0: never).
    #[arg(long, default_value_t = 0.0)]
    pub replug_after: f64,
    /// Unplugged again every `unplug_after` frames after each replug (a loose cable).
    #[arg(long)]
    pub unplug_repeat: bool,
    /// Every K-th MJPEG frame is corrupt (0: never).
    #[arg(long, default_value_t = 0)]
    pub corrupt_every: u64,
    /// No frame for `stall_s` seconds after this many frames (0: never).
    #[arg(long, default_value_t = 0)]
    pub stall_after: u64,
    #[arg(long, default_value_t = 5.0)]
    pub stall_s: f64,
    /// The first K opens fail with EBUSY (another program has the camera).
    #[arg(long, default_value_t = 0)]
    pub busy_opens: u32,
    /// Unplugged while this file exists: a test or a rehearsal unplugs the camera exactly
    /// when it is ready (`touch FILE`), and plugs it in again (`rm FILE`).
    #[arg(long)]
    pub unplug_file: Option<PathBuf>,
    /// No frames while this file exists (a wedged camera, on cue).
    #[arg(long)]
    pub stall_file: Option<PathBuf>,
    /// Log every emulated call to stderr.
    #[arg(long)]
    pub trace: bool,
    /// Put the camera's files here (default: a directory under the system's temporary
    /// directory named after the options, reused by later runs with the same options).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The command to run with the camera present.
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

/// The colour chart: six flat patches, 3 across and 2 down, left to right and top to bottom.
/// Left and right differ, so a mirrored picture is told apart.
pub const CHART: [[u8; 3]; 6] =
    [[220, 30, 30], [30, 200, 40], [30, 40, 220], [230, 220, 40], [240, 240, 240], [20, 20, 20]];

pub fn chart(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let col = (x * 3 / width).min(2);
        let row = (y * 2 / height).min(1);
        Rgb(CHART[(row * 3 + col) as usize])
    })
}

/// BT.601 limited range, the inverse of the conversion nokhwa decodes YUYV with.
pub fn to_yuyv(img: &RgbImage) -> Vec<u8> {
    let (w, h) = img.dimensions();
    let mut out = Vec::with_capacity((w * h * 2) as usize);
    let yuv = |p: &Rgb<u8>| {
        let (r, g, b) = (p[0] as i32, p[1] as i32, p[2] as i32);
        let y = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
        let u = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128;
        let v = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128;
        (y.clamp(0, 255), u.clamp(0, 255), v.clamp(0, 255))
    };
    for row in 0..h {
        for x in (0..w).step_by(2) {
            let (y0, u0, v0) = yuv(img.get_pixel(x, row));
            let (y1, u1, v1) = yuv(img.get_pixel((x + 1).min(w - 1), row));
            out.extend_from_slice(&[y0 as u8, ((u0 + u1) / 2) as u8, y1 as u8, ((v0 + v1) / 2) as u8]);
        }
    }
    out
}

fn parse_size(s: &str) -> anyhow::Result<(u32, u32)> {
    let (w, h) = s.split_once('x').with_context(|| format!("size `{s}`: write it as WIDTHxHEIGHT, e.g. 640x480"))?;
    let (w, h): (u32, u32) = (w.trim().parse()?, h.trim().parse()?);
    if w < 16 || h < 16 || w % 2 != 0 {
        bail!("size `{s}`: at least 16x16, with an even width (YUYV packs two pixels)");
    }
    Ok((w, h))
}

/// A control file's absolute path for the camera's settings (the app may run elsewhere).
fn control_file(path: &Option<PathBuf>) -> anyhow::Result<String> {
    let Some(path) = path else { return Ok(String::new()) };
    let full = std::path::absolute(path).with_context(|| format!("control file {}", path.display()))?;
    let text = full.display().to_string();
    if text.contains('\n') || text.len() >= 500 {
        bail!("control file {}: use a shorter path without line breaks", path.display());
    }
    Ok(text)
}

/// Renders the camera's files into `dir`.
pub fn prepare(args: &TestCameraArgs, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let sizes = args.sizes.iter().map(|s| parse_size(s)).collect::<anyhow::Result<Vec<_>>>()?;
    let still = match args.picture.as_str() {
        "chart" | "scene" => None,
        path => Some(crate::engine::imageio::load_rgb(Path::new(path))?),
    };
    let fps = args.fps.first().copied().unwrap_or(30).max(1);
    for &(w, h) in &sizes {
        let frames: Vec<RgbImage> = match (args.picture.as_str(), &still) {
            ("scene", _) => {
                let scene = SyntheticScene::new(5, 0.0, w, h);
                (0..args.frames.max(1)).map(|k| scene.render(k as f32 / fps as f32)).collect()
            }
            (_, Some(img)) => vec![crate::engine::imageio::resize(img, w, h)],
            _ => vec![chart(w, h)],
        };
        let mut yuyv = Vec::new();
        for (k, frame) in frames.iter().enumerate() {
            yuyv.extend(to_yuyv(frame));
            let mut jpeg = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(frame)?;
            write_atomically(&dir.join(format!("{w}x{h}-{k}.jpg")), &jpeg)?;
        }
        write_atomically(&dir.join(format!("{w}x{h}.yuyv")), &yuyv)?;
    }
    let formats = match args.formats {
        Formats::Yuyv => "yuyv",
        Formats::Mjpeg => "mjpeg",
        Formats::Both => "yuyv,mjpeg",
    };
    let conf = format!(
        "name={}\nindex={}\nformats={formats}\nsizes={}\nfps={}\nunplug_after={}\nreplug_after_s={}\nunplug_repeat={}\ncorrupt_every={}\nstall_after={}\nstall_s={}\nbusy_opens={}\nunplug_file={}\nstall_file={}\n",
        args.name,
        args.index,
        sizes.iter().map(|(w, h)| format!("{w}x{h}")).collect::<Vec<_>>().join(","),
        args.fps.iter().map(|f| f.to_string()).collect::<Vec<_>>().join(","),
        args.unplug_after,
        args.replug_after,
        args.unplug_repeat as u8,
        args.corrupt_every,
        args.stall_after,
        args.stall_s,
        args.busy_opens,
        control_file(&args.unplug_file)?,
        control_file(&args.stall_file)?,
    );
    write_atomically(&dir.join("camera.conf"), conf.as_bytes())?;
    Ok(())
}

/// Another run with the same options may be reading these files: it sees old or new, never half.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut tmp = tempfile::NamedTempFile::new_in(path.parent().expect("a file in a directory"))?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The default directory for these options: the same options reuse the same files.
fn default_dir(args: &TestCameraArgs) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let key = TestCameraArgs { command: Vec::new(), trace: false, dir: None, ..args.clone() };
    format!("{key:?}").hash(&mut h);
    let user = std::env::var("USER").unwrap_or_default();
    std::env::temp_dir().join(format!("gallery-painter-testcam-{user}-{:016x}", h.finish()))
}

/// The emulation library, built next to this binary by build.rs.
pub fn library() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let candidates = [
        exe.parent().map(|d| d.join("libgp_testcam.so")),
        exe.parent().and_then(|d| d.parent()).map(|d| d.join("libgp_testcam.so")),
        Some(PathBuf::from(env!("GP_TESTCAM_LIB"))),
    ];
    candidates.into_iter().flatten().find(|p| p.is_file()).with_context(|| {
        "the test camera library libgp_testcam.so is missing\n  fix: build the project (cargo build), which compiles testcam/v4l2_testcam.c"
    })
}

pub fn run(args: TestCameraArgs) -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt;
    let lib = library()?;
    let dir = args.dir.clone().unwrap_or_else(|| default_dir(&args));
    prepare(&args, &dir)?;
    let (program, rest) = args.command.split_first().expect("clap requires a command");
    let preload = match std::env::var("LD_PRELOAD") {
        Ok(other) if !other.is_empty() => format!("{}:{other}", lib.display()),
        _ => lib.display().to_string(),
    };
    let error = Command::new(program)
        .args(rest)
        .env("LD_PRELOAD", preload)
        .env("GP_TESTCAM_DIR", &dir)
        .env("GP_TESTCAM_TRACE", if args.trace { "1" } else { "0" })
        .exec();
    Err(error).with_context(|| format!("cannot run {program}"))
}
