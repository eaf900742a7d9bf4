use chrono::{Datelike, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

/// Daily opening hours, e.g. `(open: "09:30", close: "18:00", closed_on: ["Mon"])`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningHours {
    pub open: String,
    pub close: String,
    /// Weekdays (Mon, Tue, ...) the museum is closed all day.
    #[serde(default)]
    pub closed_on: Vec<String>,
}

fn parse_time(s: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| format!("`{s}` is not a time of day HH:MM"))
}

impl OpeningHours {
    pub fn validate(&self) -> Result<(), String> {
        let (o, c) = (parse_time(&self.open)?, parse_time(&self.close)?);
        if o == c {
            return Err("open and close are the same time".into());
        }
        for d in &self.closed_on {
            d.parse::<Weekday>().map_err(|_| format!("`{d}` is not a weekday (Mon, Tue, ...)"))?;
        }
        Ok(())
    }

    /// Whether the installation should be running at this local time. Hours that cross
    /// midnight (open 18:00, close 02:00) are supported.
    pub fn is_open(&self, now: chrono::NaiveDateTime) -> bool {
        let (Ok(o), Ok(c)) = (parse_time(&self.open), parse_time(&self.close)) else { return true };
        let closed_day = self.closed_on.iter().filter_map(|d| d.parse::<Weekday>().ok()).any(|d| d == now.weekday());
        let t = now.time();
        let in_hours = if o < c { t >= o && t < c } else { t >= o || t < c };
        in_hours && !closed_day
    }
}
