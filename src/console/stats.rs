//! The exhibition's numbers: visitors, paintings and visitors' picks per artwork, per hour,
//! for the last [`KEEP_DAYS`] days. Kept in the state directory (JSON, written atomically), so
//! they survive restarts; charts are drawn on the server as SVG, and all of it downloads as CSV.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Duration as Days, NaiveDate, NaiveDateTime, Timelike};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

pub const KEEP_DAYS: i64 = 30;
pub const FILE: &str = "statistics.json";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub visitors: u32,
    pub paintings: u32,
    pub picks: u32,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.visitors += o.visitors;
        self.paintings += o.paintings;
        self.picks += o.picks;
    }
}

/// What happened, counted against the artwork on show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Happening {
    Visitor,
    Painting,
    Pick,
}

/// One hour of one day for one artwork.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Slot {
    pub day: NaiveDate,
    pub hour: u8,
    pub artwork: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// As a list in the file (JSON has no tuple keys).
    #[serde(with = "as_list")]
    pub counts: BTreeMap<Slot, Counts>,
}

mod as_list {
    use super::*;
    pub fn serialize<S: serde::Serializer>(m: &BTreeMap<Slot, Counts>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(m.iter())
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<Slot, Counts>, D::Error> {
        let v: Vec<(Slot, Counts)> = Vec::deserialize(d)?;
        Ok(v.into_iter().collect())
    }
}

impl Stats {
    pub fn path(state_dir: &Path) -> PathBuf {
        state_dir.join(FILE)
    }

    /// The numbers kept in `state_dir`; none yet is an empty start. A file that does not read
    /// is moved aside (kept, named in the log) and counting starts again.
    pub fn load(state_dir: &Path) -> Stats {
        let path = Stats::path(state_dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Stats::default(),
            Err(e) => {
                tracing::warn!("statistics: cannot read {} ({e}); counting from zero", path.display());
                return Stats::default();
            }
        };
        match serde_json::from_str(&text) {
            Ok(s) => s,
            Err(e) => {
                let aside = path.with_extension("json.unreadable");
                let _ = std::fs::rename(&path, &aside);
                tracing::warn!(
                    "statistics: {} does not read ({e}); kept as {} and counting from zero",
                    path.display(),
                    aside.display()
                );
                Stats::default()
            }
        }
    }

    /// Writes beside the file and renames: a crash leaves the old numbers or the new, never half.
    pub fn save(&self, state_dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(state_dir)?;
        let path = Stats::path(state_dir);
        let tmp = path.with_extension("json.new");
        std::fs::write(&tmp, serde_json::to_vec(self).map_err(std::io::Error::other)?)?;
        std::fs::rename(&tmp, &path)
    }

    pub fn record(&mut self, what: Happening, artwork: &str, at: NaiveDateTime) {
        let slot = Slot { day: at.date(), hour: at.hour() as u8, artwork: artwork.to_owned() };
        let c = self.counts.entry(slot).or_default();
        match what {
            Happening::Visitor => c.visitors += 1,
            Happening::Painting => c.paintings += 1,
            Happening::Pick => c.picks += 1,
        }
        let oldest = at.date() - Days::days(KEEP_DAYS - 1);
        self.counts.retain(|s, _| s.day >= oldest);
    }

    /// The last [`KEEP_DAYS`] days up to `today`, oldest first, with their totals.
    pub fn by_day(&self, today: NaiveDate) -> Vec<(NaiveDate, Counts)> {
        let mut days: Vec<(NaiveDate, Counts)> =
            (0..KEEP_DAYS).rev().map(|back| (today - Days::days(back), Counts::default())).collect();
        for (slot, c) in &self.counts {
            if let Some(d) = days.iter_mut().find(|(d, _)| *d == slot.day) {
                d.1.add(*c);
            }
        }
        days
    }

    /// Totals by hour of the day (0..24) over the kept days.
    pub fn by_hour(&self) -> [Counts; 24] {
        let mut hours = [Counts::default(); 24];
        for (slot, c) in &self.counts {
            hours[slot.hour as usize % 24].add(*c);
        }
        hours
    }

    /// Totals by artwork, most visitors first.
    pub fn by_artwork(&self) -> Vec<(String, Counts)> {
        let mut m: BTreeMap<&str, Counts> = BTreeMap::new();
        for (slot, c) in &self.counts {
            m.entry(&slot.artwork).or_default().add(*c);
        }
        let mut v: Vec<(String, Counts)> = m.into_iter().map(|(a, c)| (a.to_owned(), c)).collect();
        v.sort_by(|a, b| b.1.visitors.cmp(&a.1.visitors).then(b.1.paintings.cmp(&a.1.paintings)));
        v
    }

    /// Every kept hour as CSV: day,hour,artwork,visitors,paintings,picks.
    pub fn csv(&self) -> String {
        let mut out = String::from("day,hour,artwork,visitors,paintings,picks\n");
        for (s, c) in &self.counts {
            // Quoted, quotes doubled (RFC 4180); a leading formula sign is defused for
            // spreadsheets (OWASP's list: = + - @, tab and carriage return).
            let mut title = s.artwork.replace('"', "\"\"");
            if title.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                title.insert(0, '\'');
            }
            out.push_str(&format!("{},{},\"{title}\",{},{},{}\n", s.day, s.hour, c.visitors, c.paintings, c.picks));
        }
        out
    }
}

/// Colours of the two series, with at least 4.5:1 contrast on the page's paper.
const VISITORS: &str = "#1f4e79";
const PAINTINGS: &str = "#8a4b08";

/// A bar chart of visitors and paintings, one pair of bars per label, as SVG.
pub fn bar_chart(title: &str, bars: &[(String, Counts)], label_every: usize) -> Markup {
    let (w, h, left, bottom) = (720.0, 240.0, 36.0, 28.0);
    let max = bars.iter().map(|(_, c)| c.visitors.max(c.paintings)).max().unwrap_or(0).max(1) as f64;
    let step = (w - left) / bars.len().max(1) as f64;
    let bar = (step * 0.4).max(1.0);
    let y = |v: u32| (h - bottom) - (v as f64 / max) * (h - bottom - 10.0);
    html! {
        svg.chart viewBox=(format!("0 0 {w} {h}")) role="img" aria-label=(title) xmlns="http://www.w3.org/2000/svg" {
            title { (title) }
            line x1=(left) y1=(h - bottom) x2=(w) y2=(h - bottom) stroke="#4a463e" {}
            text x="0" y="14" font-size="12" fill="#1b1b1b" { (max as u32) }
            text x="0" y=(h - bottom) font-size="12" fill="#1b1b1b" { "0" }
            @for (i, (label, c)) in bars.iter().enumerate() {
                @let x = left + i as f64 * step;
                rect x=(format!("{:.1}", x + 1.0)) y=(format!("{:.1}", y(c.visitors))) width=(format!("{bar:.1}"))
                    height=(format!("{:.1}", (h - bottom) - y(c.visitors))) fill=(VISITORS) {
                    title { (label) ": " (c.visitors) " visitors" }
                }
                rect x=(format!("{:.1}", x + 1.0 + bar)) y=(format!("{:.1}", y(c.paintings))) width=(format!("{bar:.1}"))
                    height=(format!("{:.1}", (h - bottom) - y(c.paintings))) fill=(PAINTINGS) {
                    title { (label) ": " (c.paintings) " paintings" }
                }
                @if i % label_every.max(1) == 0 {
                    text x=(format!("{:.1}", x)) y=(h - 8.0) font-size="11" fill="#1b1b1b" { (label) }
                }
            }
        }
    }
}

/// The legend shared by the charts.
pub fn legend() -> Markup {
    html! {
        p.legend {
            // Classes, not inline styles: the console's CSP allows its own style sheet only.
            span.key.visitors {} " visitors "
            span.key.paintings {} " paintings"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32, hour: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, day).unwrap().and_hms_opt(hour, 10, 0).unwrap()
    }

    #[test]
    fn counts_add_up_by_day_hour_and_artwork_and_old_days_drop_out() {
        let mut s = Stats::default();
        s.record(Happening::Visitor, "Night", at(1, 10));
        for _ in 0..3 {
            s.record(Happening::Visitor, "Night", at(30, 10));
        }
        s.record(Happening::Painting, "Night", at(30, 11));
        s.record(Happening::Pick, "Waves", at(30, 11));
        s.record(Happening::Visitor, "Waves", at(30, 15));
        let days = s.by_day(at(30, 0).date());
        assert_eq!(days.len(), 30);
        assert_eq!(days[29].1, Counts { visitors: 4, paintings: 1, picks: 1 });
        assert_eq!(days[0].0, at(1, 0).date());
        assert_eq!(days[0].1.visitors, 1);
        assert_eq!(s.by_hour()[10].visitors, 4);
        assert_eq!(s.by_hour()[11], Counts { visitors: 0, paintings: 1, picks: 1 });
        assert_eq!(s.by_artwork()[0], ("Night".into(), Counts { visitors: 4, paintings: 1, picks: 0 }));
        // A day later the 1st of November is 30 days back: gone.
        s.record(
            Happening::Visitor,
            "Night",
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap().and_hms_opt(9, 0, 0).unwrap(),
        );
        assert!(s.counts.keys().all(|k| k.day > at(1, 0).date()));
    }

    #[test]
    fn the_numbers_survive_a_restart_and_a_broken_file_is_kept_aside() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Stats::default();
        s.record(Happening::Visitor, "Night \"blue\"", at(3, 9));
        s.save(dir.path()).unwrap();
        assert_eq!(Stats::load(dir.path()), s);
        std::fs::write(Stats::path(dir.path()), "{ half a file").unwrap();
        assert_eq!(Stats::load(dir.path()), Stats::default());
        assert!(dir.path().join("statistics.json.unreadable").exists());
    }

    #[test]
    fn csv_quotes_titles_and_defuses_formulas() {
        let mut s = Stats::default();
        s.record(Happening::Pick, "Night \"blue\"", at(3, 9));
        s.record(Happening::Pick, "=HYPERLINK(\"x\")", at(3, 9));
        let csv = s.csv();
        assert!(csv.starts_with("day,hour,artwork,visitors,paintings,picks\n"), "{csv}");
        assert!(csv.contains("2026-11-03,9,\"Night \"\"blue\"\"\",0,0,1"), "{csv}");
        assert!(csv.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{csv}");
        // A leading tab or carriage return starts a formula in some spreadsheets too (OWASP).
        s.record(Happening::Pick, "\t=1+1", at(3, 9));
        s.record(Happening::Pick, "\r=1+1", at(3, 9));
        let csv = s.csv();
        assert!(csv.contains("\"'\t=1+1\"") && csv.contains("\"'\r=1+1\""), "{csv:?}");
    }
}
