//! The link: whether the farm can paint (the server answers, a painter is alive), going
//! local and coming back, the local engine's events passed on, and the status the kiosk shows.

use std::time::{Duration, Instant};

use super::{BACK_AFTER, IDLE_FOR, LOST_AFTER, Mode, Remote};
use crate::config::Policy;
use crate::painting::{Command, Event, WorkerConfig, WorkerState};
use crate::worker::spawn_worker;

impl Remote {
    pub(super) fn watch_connection(&mut self) {
        let now = Instant::now();
        let connected =
            self.client.connection_state() == async_nats::connection::State::Connected && self.ready().is_some();
        if connected {
            self.disconnected_since = None;
            self.connected_since.get_or_insert(now);
            self.delete_from_server();
        } else {
            self.connected_since = None;
            self.disconnected_since.get_or_insert(now);
        }
        self.farm.connected = connected;
        self.farm.painters = self.painters.lock().expect("painters").clone();
        if self.farm.painters.iter().any(|p| !p.busy) {
            self.painter_idle_since.get_or_insert(now);
        } else {
            self.painter_idle_since = None;
        }
        let fallback_after = Duration::from_secs_f64(self.remote.fallback_after_s);
        match self.mode {
            Mode::Farm => {
                if self.disconnected_since.is_some_and(|t| now - t >= fallback_after) {
                    self.go_local("the painter farm is not reachable");
                } else if connected
                    && self.farm.painters.is_empty()
                    && self.quiet_since().is_some_and(|t| t.elapsed() >= fallback_after)
                {
                    self.go_local("no painter is running on the farm");
                } else if connected
                    && self.painter_idle_since.is_some_and(|t| now - t >= IDLE_FOR)
                    && self.job.as_ref().is_some_and(|j| j.last_heard.elapsed() >= LOST_AFTER)
                    && let Some(photo) = self.photo.clone()
                {
                    let id = self.job.as_ref().map(|j| j.id.clone()).unwrap_or_default();
                    tracing::warn!("farm: job {id} is lost (no news, and a painter is idle); sending it again");
                    self.farm.resent += 1;
                    self.submit(photo);
                }
            }
            Mode::Local => {
                // A mirror is always painting: it goes back as soon as the farm can take it,
                // from the painting made here.
                let local_busy = self.cfg.policy != Policy::Live
                    && (self.local_pending
                        || self.local.as_ref().is_some_and(|l| l.status().state == WorkerState::Painting));
                if self.connected_since.is_some_and(|t| now - t >= BACK_AFTER)
                    && !self.farm.painters.is_empty()
                    && !local_busy
                {
                    self.mode = Mode::Farm;
                    self.farm.painting_locally = false;
                    self.tell_local(Command::Pause);
                    self.notice(false, "painting on the farm again".into());
                }
            }
        }
    }

    pub(super) fn go_local(&mut self, reason: &str) {
        if self.mode == Mode::Local && self.local.is_some() {
            return;
        }
        self.mode = Mode::Local;
        self.farm.painting_locally = true;
        self.farm.fallbacks += 1;
        self.farm.painter = None;
        self.notice(false, format!("painting locally: {reason}"));
        self.cancel_live(true);
        if self.local.is_none() {
            let config = WorkerConfig { remote: None, initial: self.selection.clone(), ..self.cfg.clone() };
            self.local = Some(spawn_worker(config, self.frames.clone()));
        } else if let Some(sel) = self.selection.clone() {
            self.tell_local(Command::SelectStyle(sel));
        }
        if !self.paused {
            self.tell_local(Command::Resume);
        }
        // The mirror goes on here from the farm's last painting, not from the camera's picture.
        if self.cfg.policy == Policy::Live
            && let Some(painting) = self.live_painting.clone()
            && let Some(frame) = self.newest_frame()
        {
            self.tell_local(Command::ContinueFrom { frame, painting });
        }
        // The painting that was out on the farm is painted here, from the start.
        if let Some(job) = self.job.take() {
            self.cancel(&job.id, &job.secret);
            self.withdraw_queued_photo();
            if let Some(photo) = self.photo.clone() {
                self.tell_local(Command::PaintFrame(photo));
            }
        }
    }

    /// Since when the farm has said nothing of what this kiosk has out (a job or the mirror).
    pub(super) fn quiet_since(&self) -> Option<Instant> {
        self.job.as_ref().map(|j| j.last_heard).or_else(|| self.live.as_ref().map(|l| l.last_heard()))
    }

    pub(super) fn forward_local_events(&mut self) {
        let Some(local) = &self.local else { return };
        let events: Vec<Event> = local.events.try_iter().collect();
        for event in events {
            if let Event::Snapshot(s) = &event {
                self.keep_local_painting(&s.image);
            }
            match &event {
                Event::Snapshot(s) if s.finished => self.local_pending = false,
                Event::StyleUnusable { .. } => self.local_pending = false,
                _ => {}
            }
            self.events.send(event);
        }
    }

    pub(super) fn publish_status(&mut self) {
        if self.job.is_none() || self.mode == Mode::Local {
            self.farm.waiting = false;
        }
        let forgeries = self.proofs().forgeries;
        self.farm.forgeries = forgeries;
        let farm = self.farm.clone();
        let local = match (self.mode, &self.local) {
            (Mode::Local, Some(l)) => Some(l.status()),
            _ => None,
        };
        let state = if self.paused {
            WorkerState::Paused
        } else if self.selection.is_none() {
            WorkerState::WaitingForStyle
        } else if self.job.is_some() || self.live.is_some() {
            WorkerState::Painting
        } else if self.finished_at.is_some() {
            WorkerState::Holding
        } else {
            WorkerState::WaitingForFrame
        };
        let url = self.remote.url.clone();
        let (finished, snapshots, rate) = (self.finished_on_farm, self.snapshots_on_farm, self.last_rate);
        let first_snapshots = self.first_snapshots_on_farm;
        let key = self.selection.as_ref().map(|s| s.key.clone()).unwrap_or_default();
        let (size, losses) = (self.selection.as_ref().map_or(0, |s| s.params.size), self.last_losses);
        let mut s = self.status();
        match local {
            Some(l) => {
                s.state = l.state;
                s.device = format!("{} (painting locally; farm {url})", l.device);
                s.iterations_per_second = l.iterations_per_second;
                s.size = l.size;
                s.losses = l.losses;
                s.gpu_memory = l.gpu_memory;
                s.restarts = l.restarts;
                s.last_error = l.last_error;
                s.paintings_finished = finished + l.paintings_finished;
                s.snapshots = snapshots + l.snapshots;
                s.first_snapshots = first_snapshots + l.first_snapshots;
                if l.last_latency.is_some() {
                    s.last_latency = l.last_latency;
                }
            }
            None => {
                s.state = state;
                s.device = format!("painter farm {url}");
                s.iterations_per_second = rate;
                s.size = size;
                s.losses = losses;
                s.paintings_finished = finished + self.local.as_ref().map_or(0, |l| l.status().paintings_finished);
                s.snapshots = snapshots;
                s.first_snapshots = first_snapshots + self.local.as_ref().map_or(0, |l| l.status().first_snapshots);
            }
        }
        s.style_key = key;
        s.farm = Some(farm);
    }
}
