//! The scenes desk: edit an artwork's label, order, rotation and hours, or the file itself,
//! and go back to an earlier version. Every save is checked as a scene file on disk is, on
//! the blocking pool and one at a time. Forms name an entry by its key (not its place) and
//! carry the version of the scene they were made from: a form from before another tab's
//! change is refused, not saved over that change.

use axum::extract::{Form, Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{AtScenes, audit, off_thread};
use crate::console::pages;
use crate::console::scenes::{SceneDesk, version_of};

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
    let version = current.as_ref().map(|t| version_of(t)).unwrap_or_default();
    let scene = current.as_ref().map_err(Clone::clone).and_then(|t| crate::config::parse_ron(t, &desk.path));
    let keys = scene.as_ref().map(crate::scene::Scene::entry_ids).unwrap_or_default();
    let problem = problem.or_else(|| current.as_ref().err().map(|e| e.to_string()));
    let file_text = current.unwrap_or_default();
    let versions = desk.versions();
    let view = pages::ScenesView {
        file: desk.path.display().to_string(),
        scene: scene.as_ref().ok(),
        text: edited.unwrap_or(&file_text),
        versions: &versions,
        version: &version,
        keys: &keys,
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
    off_thread(move || scenes_page(r.desk(), &r.staff.session.csrf, None, None, done)).await
}

/// Said when a form was made from an older version of the scene.
pub(super) const STALE: &str = "The scene was changed since this page was opened (in another tab, or by someone else), \
so this change was not saved: it might have landed on the wrong artwork.\n  fix: the page now shows the scene as it is; make the change again.";

/// Saves a change made by `change` to the scene, or shows why it was refused. `version`: the
/// scene version the form was made from (None where no form of the scene is involved).
pub(super) fn change_scene(
    r: &AtScenes,
    what: &str,
    version: Option<&str>,
    change: impl FnOnce(&mut crate::scene::Scene) -> Result<(), String>,
) -> Response {
    let desk = r.desk();
    let _one_at_a_time = desk.serialised();
    let result = desk.text().map_err(|e| e.to_string()).and_then(|text| {
        if version.is_some_and(|v| v != version_of(&text)) {
            return Err(STALE.to_string());
        }
        let mut scene = crate::config::parse_ron(&text, &desk.path).map_err(|e| e.to_string())?;
        change(&mut scene)?;
        desk.save_scene(&scene).map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => {
            audit(r.peer, &r.staff.who(), what);
            Redirect::to("/scenes?done=saved").into_response()
        }
        Err(problem) => {
            let status = if problem == STALE { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
            let mut page = scenes_page(desk, &r.staff.session.csrf, Some(problem), None, None);
            *page.status_mut() = status;
            page
        }
    }
}

type Fields = std::collections::HashMap<String, String>;

fn number(fields: &Fields, name: &str, label: &str) -> Result<f64, String> {
    let v = fields.get(name).map(|s| s.trim()).unwrap_or("");
    v.parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| format!("{label}: `{v}` is not a number"))
}

/// The scene version a form carries (an empty one matches nothing: an old page is stale).
fn form_version(f: &Fields) -> String {
    f.get("scene_version").cloned().unwrap_or_default()
}

/// Where the entry with this key is now.
fn find(scene: &crate::scene::Scene, key: &str) -> Result<usize, String> {
    scene
        .entry_ids()
        .iter()
        .position(|k| k == key)
        .ok_or_else(|| "that artwork is no longer in the scene; reload the page".to_string())
}

pub(super) async fn scene_entry(r: AtScenes, Path(key): Path<String>, Form(f): Form<Fields>) -> Response {
    off_thread(move || scene_entry_now(r, key, f)).await
}

fn scene_entry_now(r: AtScenes, key: String, f: Fields) -> Response {
    use crate::scene::Transition;
    let title = f.get("title").map(|t| t.trim().to_owned()).unwrap_or_default();
    let what = format!("scene entry \"{title}\" edited");
    change_scene(&r, &what, Some(&form_version(&f)), |scene| {
        let index = find(scene, &key)?;
        let e = &mut scene.entries[index];
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

/// Moves the entry `entry` (a key) one place `up` or `down`.
pub(super) async fn scene_move(r: AtScenes, Form(f): Form<Fields>) -> Response {
    off_thread(move || {
        let key = f.get("entry").cloned().unwrap_or_default();
        let up = f.get("direction").map(String::as_str) == Some("up");
        let what = format!("scene entry {key} moved {}", if up { "up" } else { "down" });
        change_scene(&r, &what, Some(&form_version(&f)), |scene| {
            let from = find(scene, &key)?;
            let to = if up { from.checked_sub(1) } else { Some(from + 1).filter(|t| *t < scene.entries.len()) };
            let to = to.ok_or("that artwork cannot move further; reload the page")?;
            scene.entries.swap(from, to);
            Ok(())
        })
    })
    .await
}

pub(super) async fn scene_rotation(r: AtScenes, Form(f): Form<Fields>) -> Response {
    off_thread(move || scene_rotation_now(r, f)).await
}

fn scene_rotation_now(r: AtScenes, f: Fields) -> Response {
    use crate::scene::{OpeningHours, Order};
    change_scene(&r, "scene rotation and hours edited", Some(&form_version(&f)), |scene| {
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
    off_thread(move || scene_text_now(r, f)).await
}

fn scene_text_now(r: AtScenes, f: Fields) -> Response {
    let desk = r.desk();
    // Browsers send line ends as CRLF.
    let edited = f.get("text").map(|t| t.replace("\r\n", "\n")).unwrap_or_default();
    let _one_at_a_time = desk.serialised();
    if desk.text().is_ok_and(|now| version_of(&now) != form_version(&f)) {
        // The file as it is now, not the edit made from an older one.
        let mut page = scenes_page(desk, &r.staff.session.csrf, Some(STALE.into()), None, None);
        *page.status_mut() = StatusCode::CONFLICT;
        return page;
    }
    match desk.save_text(&edited) {
        Ok(()) => {
            audit(r.peer, &r.staff.who(), "scene file edited");
            Redirect::to("/scenes?done=saved").into_response()
        }
        Err(e) => scenes_page(desk, &r.staff.session.csrf, Some(e.to_string()), Some(&edited), None),
    }
}

pub(super) async fn scene_restore(r: AtScenes, Form(f): Form<Fields>) -> Response {
    off_thread(move || scene_restore_now(r, f)).await
}

fn scene_restore_now(r: AtScenes, f: Fields) -> Response {
    let desk = r.desk();
    let version = f.get("version").cloned().unwrap_or_default();
    let restored = {
        let _one_at_a_time = desk.serialised();
        desk.restore(&version)
    };
    match restored {
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
