//! The "Now" desk (what the display does, pause, skip, restart, its picture) and the
//! statistics desk.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Console, StaffRequest, audit, text};
use crate::console::{StaffCommand, pages};

#[derive(Deserialize)]
pub(super) struct NowQuery {
    done: Option<String>,
}

pub(super) async fn now_page(StaffRequest { c, staff, .. }: StaffRequest, Query(q): Query<NowQuery>) -> Response {
    let health = c.board.health();
    let verdict = health.verdict(Instant::now());
    let done = q.done.as_deref().and_then(StaffCommand::from_name).map(pages::done_message);
    pages::now(&staff.session.csrf, &health, &c.board.now_view(), &verdict, done).into_response()
}

pub(super) async fn now_status(State(c): State<Arc<Console>>) -> Response {
    let health = c.board.health();
    let view = c.board.now_view();
    let verdict = health.verdict(Instant::now());
    let status = serde_json::json!({
        "healthy": verdict.is_ok(),
        "health": match &verdict { Ok(v) => format!("OK: {v}"), Err(e) => format!("Needs attention: {e}") },
        "artwork": health.artwork,
        "journey": view.journey,
        "rotation": if view.rotation_paused { "paused by staff" } else { "rotating" },
        "painter": format!("{}, {:.1} steps/s", health.worker_state, health.iterations_per_second),
        "camera": health.camera_state,
        "visitors": health.visitors.to_string(),
    });
    ([(header::CONTENT_TYPE, "application/json")], status.to_string()).into_response()
}

pub(super) async fn now_screen(State(c): State<Arc<Console>>) -> Response {
    c.board.want_screen(Instant::now());
    match c.board.now_view().screen_jpeg {
        Some(jpeg) => ([(header::CONTENT_TYPE, "image/jpeg")], jpeg.to_vec()).into_response(),
        // The display takes a picture within seconds of being asked; the page asks again.
        None => text(StatusCode::SERVICE_UNAVAILABLE, "no picture of the display yet"),
    }
}

pub(super) async fn now_action(StaffRequest { c, staff, peer }: StaffRequest, Path(action): Path<String>) -> Response {
    let Some(command) = StaffCommand::from_name(&action) else {
        return text(StatusCode::NOT_FOUND, "no such action");
    };
    if !c.board.send(command) {
        return text(StatusCode::SERVICE_UNAVAILABLE, "the display is not taking commands; see /health");
    }
    audit(peer, &staff.who(), command.name());
    Redirect::to(&format!("/now?done={}", command.name())).into_response()
}

pub(super) async fn statistics_page(StaffRequest { c, staff, .. }: StaffRequest) -> Response {
    let today = chrono::Local::now().date_naive();
    pages::statistics(&staff.session.csrf, &c.board.stats(), today).into_response()
}

pub(super) async fn statistics_csv(State(c): State<Arc<Console>>) -> Response {
    let csv = c.board.stats().csv();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"gallery-statistics.csv\""),
        ],
        csv,
    )
        .into_response()
}
