//! The artworks desk: upload an artwork (a preview painting is made before it can go on
//! show), look at it, add it to the scene, delete it.

use axum::extract::{Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::scenes_desk::{DoneQuery, change_scene};
use super::{AtShelf, audit, off_thread, text};
use crate::console::pages;

fn artworks_page(r: &AtShelf, problem: Option<&str>, done: Option<&str>) -> Response {
    let shelf = r.shelf();
    let scene = r.c.scenes.as_ref().and_then(|d| d.scene().ok());
    let rows: Vec<pages::ArtworkRow> = shelf
        .list()
        .into_iter()
        .map(|artwork| pages::ArtworkRow {
            preview: shelf.preview(&artwork.id),
            used_by: scene
                .as_ref()
                .map(|s| crate::console::artworks::used_by(s, &shelf.scene_path(&artwork.id)))
                .unwrap_or_default(),
            artwork,
        })
        .collect();
    let status = if problem.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    (status, pages::artworks(&r.staff.session.csrf, &rows, problem, done)).into_response()
}

pub(super) async fn artworks_get(r: AtShelf, Query(q): Query<DoneQuery>) -> Response {
    off_thread(move || artworks_now(r, q)).await
}

fn artworks_now(r: AtShelf, q: DoneQuery) -> Response {
    let done = match q.done.as_deref() {
        Some("uploaded") => Some("Uploaded. Its preview is being painted; add it to the scene when you like it."),
        Some("added") => Some("Added to the end of the scene."),
        Some("deleted") => Some("Deleted."),
        _ => None,
    };
    artworks_page(&r, None, done)
}

pub(super) async fn artwork_upload(r: AtShelf, mut multipart: axum::extract::Multipart) -> Response {
    let shelf = r.shelf().clone();
    let mut label = crate::console::artworks::Label::default();
    let mut image: Option<axum::body::Bytes> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return artworks_page(&r, Some(&format!("the form did not arrive whole ({e})")), None);
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        let Ok(data) = field.bytes().await else {
            return artworks_page(&r, Some("the form did not arrive whole"), None);
        };
        let text = || String::from_utf8_lossy(&data).trim().chars().take(300).collect::<String>();
        match name.as_str() {
            "image" => image = Some(data.clone()),
            "title" => label.title = text(),
            "artist" => label.artist = text(),
            "year" => label.year = text(),
            "credit" => label.credit = text(),
            _ => {}
        }
    }
    let Some(image) = image.filter(|b| !b.is_empty()) else {
        return artworks_page(&r, Some("choose an image file"), None);
    };
    // Decoding takes time and memory: on the blocking pool, not the server's thread.
    let added = tokio::task::spawn_blocking(move || shelf.add(&image, label))
        .await
        .unwrap_or_else(|e| Err(format!("the upload failed ({e})")));
    match added {
        Ok(a) => {
            audit(r.peer, &r.staff.who(), &format!("artwork {} \"{}\" uploaded", a.id, a.info.label.title));
            Redirect::to("/artworks?done=uploaded").into_response()
        }
        Err(why) => artworks_page(&r, Some(&why), None),
    }
}

pub(super) async fn artwork_file(r: AtShelf, Path((id, file)): Path<(String, String)>) -> Response {
    off_thread(move || artwork_file_now(r, id, file)).await
}

fn artwork_file_now(r: AtShelf, id: String, file: String) -> Response {
    let shelf = r.shelf();
    if !crate::console::artworks::well_formed_id(&id) {
        return text(StatusCode::NOT_FOUND, "no such artwork");
    }
    let path = match file.as_str() {
        "image.png" => shelf.image_path(&id),
        "preview.png" => shelf.preview_path(&id),
        _ => return text(StatusCode::NOT_FOUND, "no such file"),
    };
    match std::fs::read(&path) {
        Ok(bytes) => ([(header::CONTENT_TYPE, "image/png")], bytes).into_response(),
        Err(_) => text(StatusCode::NOT_FOUND, "no such file"),
    }
}

pub(super) async fn artwork_action(r: AtShelf, Path((id, action)): Path<(String, String)>) -> Response {
    off_thread(move || artwork_action_now(r, id, action)).await
}

fn artwork_action_now(r: AtShelf, id: String, action: String) -> Response {
    use crate::console::artworks::Preview;
    let shelf = r.shelf().clone();
    let Some(artwork) = shelf.get(&id) else {
        return text(StatusCode::NOT_FOUND, "no such artwork");
    };
    let path = shelf.scene_path(&id);
    let label = artwork.info.label.clone();
    match action.as_str() {
        "add-to-scene" => {
            if shelf.preview(&id) != Preview::Ready {
                return artworks_page(&r, Some("look at its preview first: it is not painted yet"), None);
            }
            let Some(at_scenes) = r.at_scenes() else {
                return text(StatusCode::NOT_FOUND, "this display plays no scene file");
            };
            // By the artwork's own id: no form of the scene is involved, so no version to check.
            let saved = change_scene(&at_scenes, &format!("artwork {id} added to the scene"), None, |scene| {
                scene.entries.push(crate::scene::SceneEntry {
                    styles: vec![crate::scene::StyleRef { path, weight: 1.0 }],
                    title: label.title,
                    artist: label.artist,
                    year: label.year,
                    credit: label.credit,
                    translations: Default::default(),
                    duration_s: 120.0,
                    transition: Default::default(),
                    overrides: Default::default(),
                });
                Ok(())
            });
            if saved.status() == StatusCode::SEE_OTHER {
                Redirect::to("/artworks?done=added").into_response()
            } else {
                saved
            }
        }
        "delete" => {
            let in_scene =
                r.c.scenes
                    .as_ref()
                    .and_then(|d| d.scene().ok())
                    .is_some_and(|s| !crate::console::artworks::used_by(&s, &path).is_empty());
            if let (true, Some(at_scenes)) = (in_scene, r.at_scenes()) {
                // Out of the scene first (checked like any save: the last artwork stays).
                let saved = change_scene(&at_scenes, &format!("artwork {id} taken out of the scene"), None, |scene| {
                    scene.entries.retain(|e| !e.styles.iter().any(|s| s.path == path));
                    Ok(())
                });
                if saved.status() != StatusCode::SEE_OTHER {
                    return saved;
                }
            }
            match shelf.delete(&id) {
                Ok(()) => {
                    audit(r.peer, &r.staff.who(), &format!("artwork {id} \"{}\" deleted", artwork.info.label.title));
                    Redirect::to("/artworks?done=deleted").into_response()
                }
                Err(why) => artworks_page(&r, Some(&why), None),
            }
        }
        _ => text(StatusCode::NOT_FOUND, "no such action"),
    }
}
