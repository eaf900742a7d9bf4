//! The console's pages as maud templates: checked when the crate compiles, every value escaped.

use maud::{DOCTYPE, Markup, html};

use super::stats::{self, Stats};
use super::{NowView, StaffCommand};
use crate::service::health::Health;

/// Every page: the title, the navigation (when signed in) and the body.
fn layout(title: &str, csrf: Option<&str>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Gallery Painter console" }
                link rel="stylesheet" href="/static/console.css";
                script src="/static/console.js" defer {}
            }
            body {
                header {
                    span.brand { "Gallery Painter" }
                    @if let Some(csrf) = csrf {
                        nav aria-label="Console" {
                            a href="/now" aria-current=[(title == "Now").then_some("page")] { "Now" }
                            a href="/artworks" aria-current=[(title == "Artworks").then_some("page")] { "Artworks" }
                            a href="/scenes" aria-current=[(title == "Scenes").then_some("page")] { "Scenes" }
                            a href="/statistics" aria-current=[(title == "Statistics").then_some("page")] { "Statistics" }
                        }
                        form.signout method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// The sign-in form; `problem` says why the last try failed.
pub fn login(login_csrf: &str, problem: Option<&str>) -> Markup {
    layout(
        "Sign in",
        None,
        html! {
            h1 { "Sign in" }
            @if let Some(problem) = problem {
                p.problem role="alert" { (problem) }
            }
            form.login method="post" action="/login" {
                input type="hidden" name="csrf" value=(login_csrf);
                label for="password" { "Staff password" }
                input #password type="password" name="password" autocomplete="current-password" required autofocus;
                button type="submit" { "Sign in" }
            }
        },
    )
}

fn command_label(c: StaffCommand) -> (&'static str, &'static str) {
    // (button, the question asked before it is sent)
    match c {
        StaffCommand::PreviousArtwork => ("Previous artwork", "Show the previous artwork now?"),
        StaffCommand::NextArtwork => ("Next artwork", "Show the next artwork now?"),
        StaffCommand::PauseRotation => ("Pause the rotation", "Keep this artwork on show until you resume?"),
        StaffCommand::ResumeRotation => ("Resume the rotation", "Let the artworks rotate again?"),
        StaffCommand::RestartPainter => {
            ("Restart the painter", "Restart the painter? The painting on screen starts again in a few seconds.")
        }
    }
}

/// The Now page: what the display shows and the buttons that change it.
pub fn now(
    csrf: &str,
    health: &Health,
    view: &NowView,
    verdict: &Result<String, String>,
    done: Option<&str>,
) -> Markup {
    layout(
        "Now",
        Some(csrf),
        html! {
            h1 { "Now" }
            @if let Some(done) = done {
                p.done role="status" { (done) }
            }
            div.now {
                figure.screen {
                    img #screen src="/now/screen.jpg" alt="What the display shows now" width="640" height="360";
                    figcaption { "The display, refreshed every few seconds." }
                }
                dl.facts {
                    dt { "Health" }
                    dd #health class=(if verdict.is_ok() { "ok" } else { "bad" }) {
                        (match verdict { Ok(v) => format!("OK: {v}"), Err(e) => format!("Needs attention: {e}") })
                    }
                    dt { "Artwork" } dd #artwork { (health.artwork) }
                    dt { "Visitor" } dd #journey { (view.journey) }
                    dt { "Rotation" } dd #rotation { (if view.rotation_paused { "paused by staff" } else { "rotating" }) }
                    dt { "Painter" } dd #painter { (health.worker_state) ", " (format!("{:.1}", health.iterations_per_second)) " steps/s" }
                    dt { "Camera" } dd #camera { (health.camera_state) }
                    dt { "Visitors since start" } dd #visitors { (health.visitors) }
                }
            }
            h2 { "Change what is on show" }
            div.actions {
                @for c in StaffCommand::ALL {
                    @let (label, question) = command_label(c);
                    form method="post" action={ "/now/" (c.name()) } data-confirm=(question) {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" class=(if c == StaffCommand::RestartPainter { "danger" } else { "" }) { (label) }
                    }
                }
            }
        },
    )
}

/// What was done, for the line at the top of the Now page after a button.
pub fn done_message(c: StaffCommand) -> &'static str {
    match c {
        StaffCommand::PreviousArtwork => "The previous artwork is on show.",
        StaffCommand::NextArtwork => "The next artwork is on show.",
        StaffCommand::PauseRotation => "The rotation is paused: this artwork stays until you resume.",
        StaffCommand::ResumeRotation => "The artworks rotate again.",
        StaffCommand::RestartPainter => "The painter is restarting.",
    }
}

/// The Statistics page: the last 30 days by day, by hour of the day, and by artwork.
pub fn statistics(csrf: &str, s: &Stats, today: chrono::NaiveDate) -> Markup {
    let days: Vec<(String, stats::Counts)> =
        s.by_day(today).into_iter().map(|(d, c)| (d.format("%d %b").to_string(), c)).collect();
    let hours: Vec<(String, stats::Counts)> =
        s.by_hour().into_iter().enumerate().map(|(h, c)| (format!("{h:02}"), c)).collect();
    let artworks = s.by_artwork();
    let total = days.iter().fold((0, 0, 0), |t, (_, c)| (t.0 + c.visitors, t.1 + c.paintings, t.2 + c.picks));
    layout(
        "Statistics",
        Some(csrf),
        html! {
            h1 { "Statistics" }
            p { "The last 30 days: " strong { (total.0) } " visitors, " strong { (total.1) } " paintings, "
                strong { (total.2) } " artworks picked by visitors. "
                a href="/statistics.csv" download="gallery-statistics.csv" { "Download all of it (CSV)" } }
            (stats::legend())
            h2 { "By day" }
            (stats::bar_chart("Visitors and paintings by day, last 30 days", &days, 5))
            h2 { "By hour of the day" }
            (stats::bar_chart("Visitors and paintings by hour of the day, last 30 days", &hours, 2))
            h2 { "By artwork" }
            @if artworks.is_empty() {
                p { "No visitors counted yet." }
            } @else {
                table.artworks {
                    thead { tr { th scope="col" { "Artwork" } th scope="col" { "Visitors" } th scope="col" { "Paintings" } th scope="col" { "Picked" } } }
                    tbody {
                        @for (artwork, c) in &artworks {
                            tr { th scope="row" { (artwork) } td { (c.visitors) } td { (c.paintings) } td { (c.picks) } }
                        }
                    }
                }
            }
        },
    )
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// What the Scenes page shows.
pub struct ScenesView<'a> {
    pub file: String,
    pub scene: Option<&'a crate::scene::Scene>,
    /// The file's text (or the staff member's rejected edit, to fix and send again).
    pub text: &'a str,
    pub versions: &'a [super::scenes::Version],
    /// The scene version the page's forms are made from (a stale form is refused).
    pub version: &'a str,
    /// Each entry's key, in order (forms name entries by it, not by place).
    pub keys: &'a [String],
    pub problem: Option<String>,
    pub done: Option<&'a str>,
}

/// The Scenes page: the artworks in their order with their settings, the rotation and opening
/// hours, the whole file as text, and the earlier versions.
pub fn scenes(csrf: &str, v: &ScenesView) -> Markup {
    use crate::scene::{Order, Transition};
    let csrf_field = html! {
        input type="hidden" name="csrf" value=(csrf);
        input type="hidden" name="scene_version" value=(v.version);
    };
    layout(
        "Scenes",
        Some(csrf),
        html! {
            h1 { "Scenes" }
            p { "The display plays " code { (v.file) } ". Every change is checked as the display would load it; the display takes it within a second." }
            @if let Some(problem) = &v.problem {
                div.problem role="alert" { p { "Not saved: nothing was changed." } pre { (problem) } }
            }
            @if let Some(done) = v.done { p.done role="status" { (done) } }
            @if let Some(scene) = v.scene {
                h2 { "Artworks, in order" }
                ol.entries {
                    @for ((i, e), key) in scene.entries.iter().enumerate().zip(v.keys) {
                        li.entry {
                            form.entry method="post" action={ "/scenes/entry/" (key) } {
                                (csrf_field)
                                div.fields {
                                    label { "Title" input type="text" name="title" value=(e.title) required; }
                                    label { "Artist" input type="text" name="artist" value=(e.artist); }
                                    label { "Year" input type="text" name="year" value=(e.year); }
                                    label { "Credit line" input type="text" name="credit" value=(e.credit); }
                                    label { "On show (seconds)" input type="number" name="duration_s" min="1" step="any" value=(e.duration_s) required; }
                                    @let (crossfade, ms) = match e.transition { Transition::Crossfade { ms } => (true, ms), Transition::Cut => (false, 1200) };
                                    label { "Transition"
                                        select name="transition" {
                                            option value="crossfade" selected[crossfade] { "Crossfade" }
                                            option value="cut" selected[!crossfade] { "Cut" }
                                        }
                                    }
                                    label { "Crossfade (ms)" input type="number" name="transition_ms" min="0" value=(ms); }
                                    @for (k, s) in e.styles.iter().enumerate() {
                                        label { "Blend weight of " code { (s.path.display()) }
                                            input type="number" name={ "weight" (k) } min="0" step="any" value=(s.weight) required; }
                                    }
                                }
                                button type="submit" { "Save this artwork" }
                            }
                            div.move {
                                @if i > 0 {
                                    form method="post" action="/scenes/move" { (csrf_field)
                                        input type="hidden" name="entry" value=(key); input type="hidden" name="direction" value="up";
                                        button type="submit" aria-label={ "Move " (e.title) " up" } { "Move up" } }
                                }
                                @if i + 1 < scene.entries.len() {
                                    form method="post" action="/scenes/move" { (csrf_field)
                                        input type="hidden" name="entry" value=(key); input type="hidden" name="direction" value="down";
                                        button type="submit" aria-label={ "Move " (e.title) " down" } { "Move down" } }
                                }
                            }
                        }
                    }
                }
                h2 { "Rotation and opening hours" }
                form.rotation method="post" action="/scenes/rotation" {
                    (csrf_field)
                    label { "Order"
                        select name="order" {
                            option value="InOrder" selected[scene.order == Order::InOrder] { "In order" }
                            option value="Shuffle" selected[scene.order == Order::Shuffle] { "Shuffled" }
                        }
                    }
                    label.check { input type="checkbox" name="hours" value="on" checked[scene.hours.is_some()]; " Only in opening hours" }
                    label { "Open" input type="time" name="open" value=(scene.hours.as_ref().map(|h| h.open.as_str()).unwrap_or("10:00")); }
                    label { "Close" input type="time" name="close" value=(scene.hours.as_ref().map(|h| h.close.as_str()).unwrap_or("18:00")); }
                    fieldset { legend { "Closed all day on" }
                        @for d in WEEKDAYS {
                            label.check { input type="checkbox" name={ "closed_" (d) } value="on"
                                checked[scene.hours.as_ref().is_some_and(|h| h.closed_on.iter().any(|c| c == d))]; " " (d) }
                        }
                    }
                    button type="submit" { "Save rotation and hours" }
                }
            }
            h2 { "The whole file" }
            p { "For everything else (engine settings per artwork, translations, new entries). Comments are kept here; the forms above write the file anew." }
            form.text method="post" action="/scenes/text" {
                (csrf_field)
                label for="scene-text" { "Scene file" }
                textarea #scene-text name="text" rows="24" spellcheck="false" { (v.text) }
                button type="submit" { "Check and save the file" }
            }
            h2 { "Earlier versions" }
            @if v.versions.is_empty() {
                p { "None yet: each save keeps the file as it was." }
            } @else {
                ul.versions {
                    @for ver in v.versions.iter().rev() {
                        li {
                            form method="post" action="/scenes/restore" data-confirm="Put this version back on the display?" {
                                (csrf_field)
                                input type="hidden" name="version" value=(ver.name);
                                span { (chrono::DateTime::<chrono::Local>::from(ver.saved).format("%a %d %b %Y, %H:%M:%S")) " (" (ver.bytes) " bytes)" }
                                " "
                                button type="submit" { "Restore" }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// One uploaded artwork as the Artworks page lists it.
pub struct ArtworkRow {
    pub artwork: super::artworks::Artwork,
    pub preview: super::artworks::Preview,
    /// Titles of the scene entries that paint with it.
    pub used_by: Vec<String>,
}

/// The Artworks page: upload, the uploaded artworks with their previews, add and delete.
pub fn artworks(csrf: &str, rows: &[ArtworkRow], problem: Option<&str>, done: Option<&str>) -> Markup {
    use super::artworks::{Preview, UPLOAD_LIMIT};
    let csrf_field = html! { input type="hidden" name="csrf" value=(csrf); };
    layout(
        "Artworks",
        Some(csrf),
        html! {
            h1 { "Artworks" }
            @if let Some(problem) = problem {
                div.problem role="alert" { p { "Not uploaded: " (problem) } }
            }
            @if let Some(done) = done { p.done role="status" { (done) } }
            h2 { "Add an artwork" }
            // The token first in the body: the server reads it before the image (no script needed).
            form #upload method="post" action="/artworks/upload" enctype="multipart/form-data" data-csrf=(csrf) {
                (csrf_field)
                div #drop.drop {
                    label for="image" { "A PNG or JPEG, up to " (UPLOAD_LIMIT >> 20) " MB: drop it here or choose it" }
                    input #image type="file" name="image" accept="image/png,image/jpeg" required;
                }
                div.fields {
                    label { "Title" input type="text" name="title" required; }
                    label { "Artist" input type="text" name="artist"; }
                    label { "Year" input type="text" name="year"; }
                    label { "Credit line" input type="text" name="credit" placeholder="Public domain, courtesy of ..."; }
                }
                progress #progress max="100" value="0" hidden {}
                p #upload-problem.problem role="alert" hidden {}
                button type="submit" { "Upload" }
            }
            p { "Each artwork is first painted on a sample photo at low resolution: look at the preview before it goes on show." }
            h2 { "Uploaded artworks" }
            @if rows.is_empty() { p { "None yet." } }
            ul.artworks {
                @for row in rows {
                    @let a = &row.artwork;
                    li.artwork {
                        img src={ "/artworks/" (a.id) "/image.png" } alt={ "The artwork " (a.info.label.title) } width="160";
                        @match &row.preview {
                            Preview::Ready => img src={ "/artworks/" (a.id) "/preview.png" } alt={ "A sample photo painted in the style of " (a.info.label.title) } width="160";,
                            Preview::Painting => p.waiting { "Painting a preview…" },
                            Preview::Failed(why) => p.problem { "No preview: " (why) },
                        }
                        div.label {
                            strong { (a.info.label.title) }
                            br; (a.info.label.artist) @if !a.info.label.year.is_empty() { ", " (a.info.label.year) }
                            br; small { (a.info.label.credit) }
                            br; small { (a.info.width) "×" (a.info.height) " px" }
                            @if !row.used_by.is_empty() { br; small { "On show in the scene as: " (row.used_by.join(", ")) } }
                        }
                        div.actions {
                            @if row.used_by.is_empty() {
                                form method="post" action={ "/artworks/" (a.id) "/add-to-scene" } { (csrf_field)
                                    button type="submit" disabled[row.preview != Preview::Ready] { "Add to the scene" } }
                            }
                            @let warning = if row.used_by.is_empty() {
                                format!("Delete \"{}\"?", a.info.label.title)
                            } else {
                                format!("\"{}\" is in the scene ({}). Deleting it takes it out of the scene. Delete?", a.info.label.title, row.used_by.join(", "))
                            };
                            form method="post" action={ "/artworks/" (a.id) "/delete" } data-confirm=(warning) { (csrf_field)
                                button.danger type="submit" { "Delete" } }
                        }
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    /// WCAG 2 relative luminance of "#rrggbb".
    fn luminance(hex: &str) -> f64 {
        let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap();
        let channel = |shift: u32| {
            let c = ((v >> shift) & 0xff) as f64 / 255.0;
            if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * channel(16) + 0.7152 * channel(8) + 0.0722 * channel(0)
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    /// A colour of the style sheet: a variable (`--ink`) or the first colour of a rule's property.
    fn css(name: &str) -> String {
        let sheet = include_str!("static/console.css");
        let at = sheet.find(&format!("{name}:")).unwrap_or_else(|| panic!("{name} is not in the style sheet"));
        let rest = &sheet[at..];
        let hash = rest.find('#').unwrap();
        rest[hash..hash + 7].to_owned()
    }

    #[test]
    fn text_and_buttons_meet_wcag_aa_contrast() {
        let (ink, paper) = (css("--ink"), css("--paper"));
        let white = "#ffffff";
        let pairs = [
            ("body text", ink.clone(), paper.clone()),
            ("buttons", white.to_owned(), css("--accent")),
            ("restart and delete buttons", white.to_owned(), css("--danger")),
            ("errors", css("--danger"), paper.clone()),
            ("done messages and healthy", css("--ok"), paper.clone()),
            (
                "header",
                white.to_owned(),
                css("header { display: flex; gap: 1.5rem; align-items: center; padding: .75rem 1.25rem; background"),
            ),
            ("current page in the header", white.to_owned(), css("header nav a[aria-current=\"page\"] { background")),
            ("move buttons", white.to_owned(), css(".move button { background")),
            ("disabled buttons", white.to_owned(), css("button:disabled { background")),
            ("captions", css(".screen figcaption { font-size: .9rem; color"), paper.clone()),
            ("scene errors", css("--danger"), css("div.problem pre { white-space: pre-wrap; background")),
        ];
        for (what, fg, bg) in pairs {
            let c = contrast(&fg, &bg);
            assert!(c >= 4.5, "{what}: {fg} on {bg} is {c:.2}:1, below AA's 4.5:1");
        }
    }
}
