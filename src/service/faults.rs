//! Scheduled faults for rehearsals and the soak test, from the environment:
//! `GALLERY_PAINTER_FAULTS="worker-panic@60,render-hang@120:30,worker-hang@200:40"` (kind @
//! seconds after start [: seconds it lasts]). Unset in an installation.

use std::time::Duration;

use crate::painting::Fault;

/// What a drill hits: the painting (the one fault type both painters meet in their paint
/// loop) or the display.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FaultKind {
    Painting(Fault),
    /// The render loop stops, as in a frozen display driver.
    RenderHang(Duration),
}

impl std::fmt::Display for FaultKind {
    /// The schedule's own words: `worker-hang (40 s)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FaultKind::Painting(Fault::Panic) => write!(f, "worker-panic"),
            FaultKind::Painting(Fault::OutOfMemory) => write!(f, "worker-oom"),
            FaultKind::Painting(Fault::Hang(d)) => write!(f, "worker-hang ({:.0} s)", d.as_secs_f64()),
            FaultKind::RenderHang(d) => write!(f, "render-hang ({:.0} s)", d.as_secs_f64()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScheduledFault {
    pub at: Duration,
    pub kind: FaultKind,
}

pub const ENV: &str = "GALLERY_PAINTER_FAULTS";

/// The latest time a fault may be scheduled or last, seconds (a week).
const MAX_AT_S: f64 = 7.0 * 86_400.0;

/// Parses the schedule; an error names the item and the forms that work.
pub fn parse(text: &str) -> Result<Vec<ScheduledFault>, String> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let bad = || {
            format!(
                "{ENV}: `{item}` is not KIND@SECONDS[:SECONDS] (seconds within 0..604800); kinds: worker-panic, worker-oom, worker-hang@T:D, render-hang@T:D"
            )
        };
        let (kind, when) = item.split_once('@').ok_or_else(bad)?;
        let (at, lasts) = match when.split_once(':') {
            Some((a, d)) => (a, Some(d)),
            None => (when, None),
        };
        // Finite and at most a week: `inf` or `1e30` is a typo, not a schedule.
        let secs = |s: &str| {
            s.parse::<f64>()
                .ok()
                .filter(|v| (0.0..=MAX_AT_S).contains(v))
                .and_then(|v| Duration::try_from_secs_f64(v).ok())
        };
        let at = secs(at).ok_or_else(bad)?;
        let lasts = match lasts {
            Some(d) => Some(secs(d).ok_or_else(bad)?),
            None => None,
        };
        let kind = match (kind, lasts) {
            ("worker-panic", None) => FaultKind::Painting(Fault::Panic),
            ("worker-oom", None) => FaultKind::Painting(Fault::OutOfMemory),
            ("worker-hang", Some(d)) => FaultKind::Painting(Fault::Hang(d)),
            ("render-hang", Some(d)) => FaultKind::RenderHang(d),
            _ => return Err(bad()),
        };
        out.push(ScheduledFault { at, kind });
    }
    out.sort_by_key(|f| f.at);
    Ok(out)
}
