//! Job sending: a visitor's photo becomes a job on the kiosk's own subject of the work queue
//! (a new one replaces a queued one), with its style images uploaded once; cancelling,
//! withdrawing and forgetting it on the server.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{CALL_TIMEOUT, Job, Remote};
use crate::capture::Frame;
use crate::engine::imageio;
use crate::farm::proofs;
use crate::farm::protocol::{self, JobSpec, JobStyle};
use crate::farm::trust::{self, JobSecret};
use crate::painting::{Command, Event, StyleSelection};

pub(super) enum Refusal {
    /// The selection cannot be painted anywhere.
    Style(String),
    /// The farm cannot take it now: paint locally.
    Farm(String),
}

impl Remote {
    /// Sends the photo to the farm; when it cannot, the local engine paints it.
    pub(super) fn submit(&mut self, frame: Frame) {
        self.want_frame = false;
        self.finished_at = None;
        let Some(sel) = self.selection.clone() else { return };
        match self.try_submit(&frame, &sel) {
            Ok(job) => {
                self.farm.jobs_submitted += 1;
                self.job = Some(job);
            }
            Err(Refusal::Style(reason)) => {
                self.notice(true, format!("cannot use \"{}\": {reason}", sel.key));
                self.events.send(Event::StyleUnusable { key: sel.key, reason });
            }
            Err(Refusal::Farm(reason)) => {
                if let Some(old) = self.job.take() {
                    self.cancel(&old.id, &old.secret);
                }
                self.go_local(&reason);
                self.tell_local(Command::PaintFrame(frame));
            }
        }
    }

    pub(super) fn try_submit(&mut self, frame: &Frame, sel: &StyleSelection) -> Result<Job, Refusal> {
        let styles = self.job_styles(sel)?;
        // The painter paints at most this size: send no more pixels than that.
        let photo = imageio::shrink_to((*frame.image).clone(), sel.params.size);
        let png = imageio::encode_png(&photo);
        let job_id = format!("{}-{}", frame.seq, crate::ids::random_hex::<8>());
        let secret = JobSecret::random();
        let spec = self.job_spec(job_id.clone(), sel, styles, frame, None, &secret).to_header();
        self.check_size(&spec, png.len())?;
        // Only one job per kiosk: the one being painted stops (a queued one is replaced by the server).
        if let Some(old) = self.job.take() {
            self.cancel(&old.id, &old.secret);
        }
        // Known to the receiving tasks before a painter can answer.
        self.proofs().secrets.insert(job_id.clone(), secret.clone());
        self.send_job(&spec, png)?;
        let now = Instant::now();
        tracing::info!("farm: job {job_id} sent for frame {} in \"{}\"", frame.seq, sel.key);
        Ok(Job {
            id: job_id,
            secret,
            key: sel.key.clone(),
            frame_seq: frame.seq,
            captured_at: frame.captured_at,
            submitted: now,
            last_heard: now,
            last_polled: now,
            attempt: 1,
            shown_iteration: 0,
            first_seen: false,
            said_quiet: false,
            levels: sel.params.levels,
        })
    }

    pub(super) fn job_spec(
        &self,
        job: String,
        sel: &StyleSelection,
        styles: Vec<JobStyle>,
        frame: &Frame,
        live: Option<protocol::LiveSpec>,
        secret: &JobSecret,
    ) -> JobSpec {
        JobSpec {
            job,
            kiosk: self.remote.kiosk.clone(),
            key: sel.key.clone(),
            styles,
            params: sel.params.clone(),
            faces: frame.faces.clone(),
            snapshot_every: self.cfg.snapshot_every,
            snapshot_interval_s: self.cfg.snapshot_interval.as_secs_f64(),
            live,
            secret: secret.to_hex(),
        }
    }

    /// The selection's styles on the server (each uploaded once, named by its hash).
    pub(super) fn job_styles(&mut self, sel: &StyleSelection) -> Result<Vec<JobStyle>, Refusal> {
        let ready = match (self.ready(), self.client.connection_state()) {
            (Some(r), async_nats::connection::State::Connected) => r,
            _ => return Err(Refusal::Farm("the painter farm is not reachable".into())),
        };
        let mut styles = Vec::new();
        let max_payload = crate::farm::connection::max_payload(&self.client);
        for (path, weight) in &sel.styles {
            let full = crate::paths::resolve(&self.cfg.root, path);
            if !full.is_file() {
                return Err(Refusal::Style(format!("style image {} is missing", full.display())));
            }
            let hash = self
                .runtime
                .block_on(async {
                    tokio::time::timeout(CALL_TIMEOUT * 4, self.uploads.ensure(&ready.styles, &full, max_payload)).await
                })
                .map_err(|_| Refusal::Farm("sending a style image timed out".into()))?
                .map_err(Refusal::Farm)?;
            styles.push(JobStyle { sha256: hash, weight: *weight });
        }
        Ok(styles)
    }

    /// A job larger than the server takes is painted here, with the fix named. `spec`: the
    /// job's description as it travels ([`JobSpec::to_header`]).
    pub(super) fn check_size(&self, spec: &str, payload: usize) -> Result<(), Refusal> {
        let limit = crate::farm::connection::max_payload(&self.client);
        if payload + spec.len() + 1024 > limit {
            return Err(Refusal::Farm(format!(
                "the photo is {} KiB, more than the farm's max_payload of {} KiB (fix: raise max_payload in the server's config, or lower engine.style.size)",
                payload >> 10,
                limit >> 10
            )));
        }
        Ok(())
    }

    /// Puts the job on the kiosk's subject of the work queue (replacing a queued one). In a
    /// cluster whose server leading the queue just died, the queue answers nobody until the
    /// others elect a new leader (seconds): the job is offered again meanwhile, not given up.
    /// With an identity, the job is signed: painters paint only jobs this kiosk signed.
    pub(super) fn send_job(&self, spec: &str, payload: Vec<u8>) -> Result<(), Refusal> {
        let subject = protocol::job_subject(&self.remote.kiosk);
        let digest = trust::digest(&payload);
        let signed = self.identity.as_ref().map(|id| id.sign("job", &proofs::job_parts(&subject, spec, &digest)));
        let payload = Bytes::from(payload);
        let deadline = Instant::now() + protocol::LEADER_ELECTION;
        loop {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(protocol::H_SPEC, spec);
            if let Some((signer, signature)) = &signed {
                headers.insert(protocol::H_SIGNER, signer.as_str());
                headers.insert(protocol::H_SIGNATURE, signature.as_str());
            }
            let sent = self.runtime.block_on(async {
                let ack = self
                    .js
                    .publish_with_headers(subject.clone(), headers, payload.clone())
                    .await
                    .map_err(|e| e.to_string())?;
                tokio::time::timeout(CALL_TIMEOUT, ack)
                    .await
                    .map_err(|_| "no answer".to_string())?
                    .map_err(|e| e.to_string())
            });
            match sent {
                Err(e)
                    if protocol::leaderless(&e)
                        && Instant::now() < deadline
                        && self.client.connection_state() == async_nats::connection::State::Connected =>
                {
                    tracing::info!("farm: the work queue has no leader now ({e}); offering the job again");
                    std::thread::sleep(Duration::from_millis(500));
                }
                sent => return sent.map(|_| ()).map_err(|e| Refusal::Farm(format!("the job was not taken ({e})"))),
            }
        }
    }

    /// An empty job replaces this kiosk's queued photo (one message per kiosk subject), so a
    /// photo painted elsewhere does not wait on the server. Best effort: when the server is
    /// away, the job's max age removes it.
    pub(super) fn withdraw_queued_photo(&self) {
        if self.client.connection_state() != async_nats::connection::State::Connected {
            return;
        }
        let subject = protocol::job_subject(&self.remote.kiosk);
        let _ = self.runtime.block_on(async {
            tokio::time::timeout(CALL_TIMEOUT, async { self.js.publish(subject, Bytes::new()).await?.await }).await
        });
    }

    /// Stops `what` (a job id, or a Live generation) on its painter; proven with its secret,
    /// so that nobody else can stop this kiosk's paintings.
    pub(super) fn cancel(&self, what: &str, secret: &JobSecret) {
        let subject = protocol::cancel_subject(&self.remote.kiosk);
        let payload = proofs::cancel_payload(secret, &self.remote.kiosk, what);
        let _ = self.runtime.block_on(self.client.publish(subject, Bytes::from(payload)));
    }

    /// The visitor left: nothing of them stays, here or on the server.
    pub(super) fn forget(&mut self) {
        if let Some(job) = self.job.take() {
            self.cancel(&job.id, &job.secret);
        }
        self.cancel_live(true);
        self.live_painting = None;
        self.live_frame_unsent = false;
        self.photo = None;
        self.finished_at = None;
        self.tell_local(Command::Forget);
        self.forget_pending = true;
        self.delete_from_server();
    }

    pub(super) fn delete_from_server(&mut self) {
        if !self.forget_pending || self.client.connection_state() != async_nats::connection::State::Connected {
            return;
        }
        let Some(ready) = self.ready() else { return };
        let subject = protocol::job_subject(&self.remote.kiosk);
        let purged = self.runtime.block_on(async {
            tokio::time::timeout(CALL_TIMEOUT, async {
                // An empty job replaces a queued photo (one message per kiosk); painters drop it.
                self.js.publish(subject, Bytes::new()).await?.await?;
                ready.results.purge().await?;
                Ok::<_, async_nats::Error>(())
            })
            .await
        });
        match purged {
            Ok(Ok(())) => self.forget_pending = false,
            Ok(Err(e)) => tracing::warn!("farm: the visitor's job and painting were not deleted yet ({e}); retrying"),
            Err(_) => tracing::warn!("farm: deleting the visitor's job and painting timed out; retrying"),
        }
    }
}
