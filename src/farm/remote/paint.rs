//! The Paint side: a job's snapshots and its finished painting coming back from a painter,
//! shown as they arrive; the results stream asked when a job has been quiet.

use std::sync::Arc;
use std::time::{Duration, Instant};

use image::RgbImage;

use super::{CALL_TIMEOUT, Incoming, Mode, QUIET_NOTICE, RESULT_POLL, Remote};
use crate::config::Policy;
use crate::farm::protocol::{self, Progress};
use crate::painting::{Event, Intake, Notice, Snapshot};

impl Remote {
    /// A snapshot or result from a painter.
    pub(super) fn take(&mut self, incoming: Incoming) {
        self.farm.snapshot_bytes += incoming.bytes as u64;
        if self.take_live(&incoming) {
            return;
        }
        let Some(job) = self.job.as_mut() else { return };
        let p = incoming.progress;
        if p.job != job.id || p.attempt < job.attempt {
            return; // an earlier job of this kiosk, or the painter that was replaced
        }
        job.last_heard = Instant::now();
        job.said_quiet = false;
        self.farm.waiting = false;
        self.farm.painter = Some(p.painter.clone());
        if let Some(reason) = p.error {
            let key = job.key.clone();
            self.job = None;
            self.notice(true, format!("the farm cannot paint this: {reason}"));
            self.events.send(Event::StyleUnusable { key, reason });
            return;
        }
        if p.attempt > job.attempt {
            job.attempt = p.attempt;
            self.farm.redelivered += 1;
            let text = format!("a painter stopped; {} goes on with this painting", p.painter);
            self.events.send(Event::Notice(Notice { error: false, text: text.clone() }));
            tracing::info!("farm: {text}");
        }
        let Some(image) = incoming.image else { return };
        // A takeover starts again from the first iteration: the screen keeps the further one.
        if !p.finished && p.iteration < job.shown_iteration {
            return;
        }
        job.shown_iteration = p.iteration;
        let latency = (!job.first_seen).then(|| job.captured_at.elapsed());
        if !job.first_seen {
            job.first_seen = true;
            self.farm.last_queue_wait = Some(job.submitted.elapsed());
            self.farm.queue_waits += 1;
        }
        self.last_rate = p.iterations_per_second;
        self.last_losses = p.losses();
        let mut snapshot = snapshot_of(&p, image, job.frame_seq, job.key.clone(), latency, p.levels.max(job.levels));
        self.snapshots_on_farm += 1;
        if let Some(l) = latency {
            self.status.lock().expect("worker status lock").last_latency = Some(l);
            self.first_snapshots_on_farm += 1;
        }
        if p.finished {
            tracing::info!(
                "farm: job {} finished by {} ({} iterations, {:.2} it/s)",
                job.id,
                p.painter,
                p.iteration,
                p.iterations_per_second
            );
            self.finished_on_farm += 1;
            snapshot.making_of = incoming.making_of;
            self.job = None;
            self.finished_at = Some(Instant::now());
            self.farm.painter = None;
        }
        self.events.send(Event::Snapshot(snapshot));
    }

    /// Asks the results stream for the job's painting when nothing was heard for a while.
    pub(super) fn poll_result(&mut self) {
        let Some(job) = self.job.as_mut() else { return };
        if job.last_heard.elapsed() < RESULT_POLL || job.last_polled.elapsed() < RESULT_POLL {
            return;
        }
        job.last_polled = Instant::now();
        if !job.said_quiet && job.last_heard.elapsed() >= QUIET_NOTICE {
            job.said_quiet = true;
            self.farm.waiting = true;
            self.events.send(Event::Notice(Notice { error: false, text: "waiting for a painter".into() }));
        }
        let subject = protocol::result_subject(&self.remote.kiosk, &job.id);
        let Some(ready) = self.ready() else { return };
        if self.client.connection_state() != async_nats::connection::State::Connected {
            return;
        }
        let found = self.runtime.block_on(async {
            tokio::time::timeout(CALL_TIMEOUT, ready.results.get_last_raw_message_by_subject(&subject)).await
        });
        if let Ok(Ok(message)) = found
            && let Some(progress) = Progress::from_headers(&message.headers)
        {
            let digest = crate::farm::trust::digest(&message.payload);
            if self.proofs().proven(&subject, &progress.job, &message.headers, &digest) {
                self.take(Incoming::decode(progress, &message.headers, &message.payload));
            }
        }
    }

    /// The Paint policy on the capture stream (no visitor journey): the next frame after the hold.
    pub(super) fn take_stream_frame(&mut self) {
        if self.mode != Mode::Farm
            || self.cfg.policy != Policy::Paint
            || self.cfg.intake != Intake::Stream
            || self.paused
            || self.selection.is_none()
            || self.job.is_some()
        {
            return;
        }
        let held = self.finished_at.is_some_and(|t| t.elapsed() >= self.cfg.hold_finished);
        if !(self.want_frame || held) {
            return;
        }
        if let Some(frame) = self.frames.try_iter().last() {
            self.photo = Some(frame.clone());
            self.submit(frame);
        }
    }
}

/// What the display is given for a painter's snapshot.
pub(super) fn snapshot_of(
    p: &Progress,
    image: Arc<RgbImage>,
    frame_seq: u64,
    style_key: String,
    latency: Option<Duration>,
    levels: u32,
) -> Snapshot {
    Snapshot {
        image,
        iteration: p.iteration,
        total_iterations: p.total_iterations,
        level: p.level,
        losses: p.losses(),
        iterations_per_second: p.iterations_per_second,
        frame_seq,
        style_key,
        finished: p.finished,
        latency,
        levels,
        making_of: Vec::new(),
    }
}
