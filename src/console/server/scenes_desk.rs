//! The scenes desk: edit an artwork's label, order, rotation and hours, or the file itself,
//! and go back to an earlier version. Every save is checked as a scene file on disk is.

use axum::extract::{Form, Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{AtScenes, audit};
use crate::console::pages;
use crate::console::scenes::SceneDesk;

#[derive(Deserialize)]
pub(super) struct DoneQuery {
    pub(super) done: Option<String>,
}

fn scenes_page(
    desk: &SceneDesk,
    csrf: &str,
    problem: Option<String>,
    edited: Option<&str>,
    done: Option<&str>,
) -> Response {
    let current = desk.text();
    let scene = desk.scene();
    let problem = problem.or_else(|| current.as_ref().err().map(|e| e.to_string()));
    let file_text = current.unwrap_or_default();
    let versions = desk.versions();
    let view = pages::ScenesView {
        file: desk.path.display().to_string(),
        scene: scene.as_ref().ok(),
        text: edited.unwrap_or(&file_text),
        versions: &versions,
        problem: problem.clone(),
        done,
    };
    let status = if problem.is_some() && edited.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    (status, pages::scenes(csrf, &view)).into_response()
}

pub(super) async fn scenes_get(r: AtScenes, Query(q): Query<DoneQuery>) -> Response {
    let done = match q.done.as_deref() {
        Some("saved") => Some("Saved. The display plays the new scene."),
        Some("restored") => Some("Restored. The display plays that version."),
        _ => None,
    };
    scenes_page(r.desk(), &r.staff.session.csrf, None, None, done)
}

/// Saves a change made by `change` to the scene, or shows why it was refused.
pub(super) fn change_scene(
    r: &AtScenes,
    what: &str,
    change: impl FnOnce(&mut crate::scene::Scene) -> Result<(), String>,
) -> Response {
    let desk = r.desk();
    let result = desk.scene().map_err(|e| e.to_string()).and_then(|mut scene| {
        change(&mut scene)?;
        desk.save_scene(&scene).map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => {
            audit(r.peer, &r.staff.who(), what);
            Redirect::to("/scenes?done=saved").into_response()
        }
        Err(problem) => {
            let mut page = scenes_page(desk, &r.staff.session.csrf, Some(problem), None, None);
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            page
        }
    }
}

type Fields = std::collections::HashMap<String, String>;

fn number(fields: &Fields, name: &str, label: &str) -> Result<f64, String> {
    let v = fields.get(name).map(|s| s.trim()).unwrap_or("");
    v.parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| format!("{label}: `{v}` is not a number"))
}

pub(super) async fn scene_entry(r: AtScenes, Path(index): Path<usize>, Form(f): Form<Fields>) -> Response {
    use crate::scene::Transition;
    let what = format!("scene entry {} edited", index + 1);
    change_scene(&r, &what, |scene| {
        let e = scene.entries.get_mut(index).ok_or("that artwork is no longer in the scene; reload the page")?;
        let text = |name: &str| f.get(name).map(|s| s.trim().to_owned()).unwrap_or_default();
        e.title = text("title");
        if e.title.is_empty() {
            return Err("Title: an artwork needs a title".into());
        }
        e.artist = text("artist");
        e.year = text("year");
        e.credit = text("credit");
        e.duration_s = number(&f, "duration_s", "On show (seconds)")?;
        e.transition = match f.get("transition").map(String::as_str) {
            Some("cut") => Transition::Cut,
            _ => {
                Transition::Crossfade { ms: number(&f, "transition_ms", "Crossfade (ms)")?.clamp(0.0, 60_000.0) as u32 }
            }
        };
        for (k, s) in e.styles.iter_mut().enumerate() {
            s.weight = number(&f, &format!("weight{k}"), &format!("Blend weight of {}", s.path.display()))?;
        }
        Ok(())
    })
}

pub(super) async fn scene_move(r: AtScenes, Form(f): Form<Fields>) -> Response {
    let from = number(&f, "from", "from").unwrap_or(-1.0);
    let to = number(&f, "to", "to").unwrap_or(-1.0);
    let what = format!("scene entry {} moved to {}", from + 1.0, to + 1.0);
    change_scene(&r, &what, |scene| {
        let n = scene.entries.len() as f64;
        if !(0.0..n).contains(&from) || !(0.0..n).contains(&to) {
            return Err("that artwork is no longer there; reload the page".into());
        }
        let entry = scene.entries.remove(from as usize);
        scene.entries.insert(to as usize, entry);
        Ok(())
    })
}

pub(super) async fn scene_rotation(r: AtScenes, Form(f): Form<Fields>) -> Response {
    use crate::scene::{OpeningHours, Order};
    change_scene(&r, "scene rotation and hours edited", |scene| {
        scene.order =
            if f.get("order").map(String::as_str) == Some("Shuffle") { Order::Shuffle } else { Order::InOrder };
        scene.hours = match f.get("hours").map(String::as_str) {
            Some("on") => Some(OpeningHours {
                open: f.get("open").cloned().unwrap_or_default(),
                close: f.get("close").cloned().unwrap_or_default(),
                closed_on: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
                    .into_iter()
                    .filter(|d| f.get(&format!("closed_{d}")).is_some_and(|v| v == "on"))
                    .map(str::to_owned)
                    .collect(),
            }),
            _ => None,
        };
        Ok(())
    })
}

pub(super) async fn scene_text(r: AtScenes, Form(f): Form<Fields>) -> Response {
    let desk = r.desk();
    // Browsers send line ends as CRLF.
    let edited = f.get("text").map(|t| t.replace("\r\n", "\n")).unwrap_or_default();
    match desk.save_text(&edited) {
        Ok(()) => {
            audit(r.peer, &r.staff.who(), "scene file edited");
            Redirect::to("/scenes?done=saved").into_response()
        }
        Err(e) => scenes_page(desk, &r.staff.session.csrf, Some(e.to_string()), Some(&edited), None),
    }
}

pub(super) async fn scene_restore(r: AtScenes, Form(f): Form<Fields>) -> Response {
    let desk = r.desk();
    let version = f.get("version").cloned().unwrap_or_default();
    match desk.restore(&version) {
        Ok(()) => {
            audit(r.peer, &r.staff.who(), &format!("scene version {version} restored"));
            Redirect::to("/scenes?done=restored").into_response()
        }
        Err(e) => {
            let mut page = scenes_page(desk, &r.staff.session.csrf, Some(e.to_string()), None, None);
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            page
        }
    }
}
