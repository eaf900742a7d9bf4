//! The bridge between the live pipeline (capture + worker threads) and Bevy: snapshots and
//! notices come in as messages, commands go out; no tch type ever crosses it.

use std::sync::{Arc, Mutex};

use bevy::prelude::*;
use crossbeam_channel::{Receiver, Sender};

use super::AppSystems;
use crate::capture::{CaptureHandle, CaptureStatus, PresenceSignal};
use crate::painting::{Command, Event, Notice, Snapshot, WorkerHandle, WorkerStatus};

/// Channels to the worker and shared status. The handles (if any) stop the threads on drop.
#[derive(Resource)]
pub struct Pipeline {
    pub commands: Sender<Command>,
    pub events: Receiver<Event>,
    pub worker_status: Arc<Mutex<WorkerStatus>>,
    pub capture_status: Option<Arc<Mutex<CaptureStatus>>>,
    pub presence: Option<Receiver<PresenceSignal>>,
    handles: Option<(WorkerHandle, CaptureHandle)>,
}

impl Pipeline {
    pub fn new(worker: WorkerHandle, capture: CaptureHandle) -> Pipeline {
        Pipeline {
            commands: worker.commands.clone(),
            events: worker.events.clone(),
            worker_status: worker.status.clone(),
            capture_status: Some(capture.status.clone()),
            presence: Some(capture.presence.clone()),
            handles: Some((worker, capture)),
        }
    }

    /// A pipeline made of bare channels (headless tests drive the other ends).
    pub fn from_channels(commands: Sender<Command>, events: Receiver<Event>) -> Pipeline {
        Pipeline {
            commands,
            events,
            worker_status: Default::default(),
            capture_status: None,
            presence: None,
            handles: None,
        }
    }

    /// Adds a capture side (status with the latest frame, presence signals) that a test drives.
    pub fn with_capture(mut self, status: Arc<Mutex<CaptureStatus>>, presence: Receiver<PresenceSignal>) -> Self {
        self.capture_status = Some(status);
        self.presence = Some(presence);
        self
    }

    pub fn shutdown(&mut self) {
        if let Some((mut w, mut c)) = self.handles.take() {
            w.shutdown();
            c.stop();
        }
    }
}

/// A new snapshot of the painting arrived.
#[derive(Message, Clone, Debug)]
pub struct PaintingUpdated(pub Snapshot);

#[derive(Message, Clone, Debug)]
pub struct WorkerNotice(pub Notice);

/// The worker cannot paint in this selection (keyed by the scene entry's title): its images
/// do not decode. Whoever waits for a painting in it must stop waiting.
#[derive(Message, Clone, Debug, PartialEq)]
pub struct StyleUnusable {
    pub key: String,
    pub reason: String,
}

/// Somebody came, held still, moved or left (from the capture thread's presence detector).
#[derive(Message, Clone, Copy, Debug)]
pub struct PresenceSeen(pub PresenceSignal);

/// Which snapshots reach the screen. The visitor journey lets through only the painting of
/// the current visitor's capture, so a late snapshot of someone who left never shows.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PaintingGate {
    #[default]
    All,
    Frame(u64),
    Nothing,
}

impl PaintingGate {
    pub fn admits(&self, snapshot: &Snapshot) -> bool {
        match self {
            PaintingGate::All => true,
            PaintingGate::Frame(seq) => snapshot.frame_seq == *seq,
            PaintingGate::Nothing => false,
        }
    }
}

/// Systems ask the worker for something by writing this.
#[derive(Message, Clone, Debug)]
pub struct SendCommand(pub Command);

/// The latest snapshot, for systems that just need "what is on the canvas".
#[derive(Resource, Default)]
pub struct LatestPainting(pub Option<Snapshot>);

/// Copies of the threads' status, refreshed every frame.
#[derive(Resource, Default, Clone)]
pub struct PipelineStatus {
    pub worker: WorkerStatus,
    pub capture: Option<CaptureStatus>,
    pub notices: Vec<Notice>,
}

pub(super) fn plugin(app: &mut App) {
    app.add_message::<PaintingUpdated>()
        .add_message::<WorkerNotice>()
        .add_message::<StyleUnusable>()
        .add_message::<SendCommand>()
        .add_message::<PresenceSeen>()
        .init_resource::<PaintingGate>()
        .init_resource::<LatestPainting>()
        .init_resource::<PipelineStatus>()
        .add_systems(Update, (receive, log_metrics).chain().in_set(AppSystems::Receive))
        .add_systems(Update, forward_commands.in_set(AppSystems::Send))
        .add_systems(Last, shutdown_on_exit);
}

#[allow(clippy::too_many_arguments)] // a Bevy system: one parameter per stream from the threads
fn receive(
    pipeline: Option<Res<Pipeline>>,
    mut latest: ResMut<LatestPainting>,
    mut status: ResMut<PipelineStatus>,
    mut painted: MessageWriter<PaintingUpdated>,
    mut notices: MessageWriter<WorkerNotice>,
    mut unusable: MessageWriter<StyleUnusable>,
    mut presence: MessageWriter<PresenceSeen>,
    gate: Res<PaintingGate>,
) {
    let Some(pipeline) = pipeline else { return };
    if let Some(signals) = &pipeline.presence {
        for s in signals.try_iter() {
            presence.write(PresenceSeen(s));
        }
    }
    // Only the newest snapshot matters for display; older ones of this frame are skipped,
    // except a finished one, which the journey and the keepsake must see.
    let mut newest: Option<Snapshot> = None;
    for event in pipeline.events.try_iter() {
        match event {
            Event::Snapshot(s) if gate.admits(&s) => {
                if newest.as_ref().is_some_and(|n| n.finished) && !s.finished {
                    painted.write(PaintingUpdated(newest.take().expect("checked above")));
                }
                newest = Some(s)
            }
            Event::Snapshot(_) => {}
            Event::Notice(n) => {
                status.notices.push(n.clone());
                if status.notices.len() > 5 {
                    status.notices.remove(0);
                }
                notices.write(WorkerNotice(n));
            }
            Event::StyleUnusable { key, reason } => {
                unusable.write(StyleUnusable { key, reason });
            }
        }
    }
    if let Some(s) = newest {
        latest.0 = Some(s.clone());
        painted.write(PaintingUpdated(s));
    }
    status.worker = pipeline.worker_status.lock().expect("worker status").clone();
    status.capture = pipeline.capture_status.as_ref().map(|c| c.lock().expect("capture status").clone());
}

fn forward_commands(pipeline: Option<Res<Pipeline>>, mut commands: MessageReader<SendCommand>) {
    let Some(pipeline) = pipeline else { return };
    for SendCommand(c) in commands.read() {
        if pipeline.commands.send(c.clone()).is_err() {
            tracing::error!("worker is gone; command {c:?} dropped");
        }
    }
}

fn shutdown_on_exit(mut exit: MessageReader<AppExit>, pipeline: Option<ResMut<Pipeline>>) {
    if exit.read().next().is_some()
        && let Some(mut p) = pipeline
    {
        p.shutdown();
    }
}

/// One line of metrics a minute in the log, for the technician's morning check.
fn log_metrics(time: Res<Time>, status: Res<PipelineStatus>, mut last: Local<f64>) {
    let now = time.elapsed_secs_f64();
    if now - *last < 60.0 {
        return;
    }
    *last = now;
    let w = &status.worker;
    let latency = w.last_latency.map(|l| format!("{:.2}s", l.as_secs_f64())).unwrap_or_else(|| "-".into());
    match &status.capture {
        Some(c) => tracing::info!(
            "metrics: capture {:.1} fps, {} frames, {} dropped, {:?} | worker {:?}, {:.2} it/s, latency {latency}, {} snapshots, {} restarts",
            c.fps,
            c.frames,
            c.dropped,
            c.state,
            w.state,
            w.iterations_per_second,
            w.snapshots,
            w.restarts
        ),
        None => tracing::info!(
            "metrics: worker {:?}, {:.2} it/s, latency {latency}, {} snapshots",
            w.state,
            w.iterations_per_second,
            w.snapshots
        ),
    }
}
