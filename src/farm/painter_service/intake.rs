//! What a painter takes in: jobs that prove themselves (on the subject of the kiosk they
//! name, with a secret, and with identities signed by that kiosk), and cancels, kept until
//! their job is in hand and checked against its secret then.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_nats::jetstream;
use bytes::Bytes;
use futures_util::StreamExt;

use super::{KEPT_CANCELS, PainterService};
use crate::farm::proofs;
use crate::farm::protocol::{self, JobSpec};
use crate::farm::trust::{self, JobSecret, Role};

/// Cancels heard, each with its proof: checked against the job's secret when the job is in
/// hand (a cancel may come before its job is pulled).
#[derive(Default)]
pub(super) struct Cancelled {
    /// (kiosk, what) -> the proofs heard for it.
    heard: HashMap<(String, String), Vec<String>>,
    order: VecDeque<(String, String)>,
}

impl Cancelled {
    pub(super) fn proven(&self, kiosk: &str, what: &str, secret: &JobSecret) -> bool {
        self.heard
            .get(&(kiosk.to_string(), what.to_string()))
            .is_some_and(|macs| macs.iter().any(|mac| proofs::cancel_proven(secret, kiosk, what, mac)))
    }
}

pub(super) async fn listen_for_cancels(mut subscription: async_nats::Subscriber, cancelled: Arc<Mutex<Cancelled>>) {
    while let Some(m) = subscription.next().await {
        let Some(kiosk) = m.subject.as_str().strip_prefix("gp.cancel.") else { continue };
        let Some((what, mac)) = proofs::read_cancel(&m.payload) else { continue };
        let key = (kiosk.to_string(), what);
        let mut c = cancelled.lock().expect("cancel list");
        let macs = c.heard.entry(key.clone()).or_default();
        // A few proofs per job at most: a flood of forged cancels does not grow it.
        if macs.len() < 4 {
            macs.push(mac);
        }
        if macs.len() == 1 {
            c.order.push_back(key);
        }
        while c.order.len() > KEPT_CANCELS {
            if let Some(old) = c.order.pop_front() {
                c.heard.remove(&old);
            }
        }
    }
}

impl PainterService<'_> {
    /// The job's description and secret, if the job is what it claims: on the subject of the
    /// kiosk it names, with a secret, and (with identities) signed by that kiosk. Anything
    /// else is logged as a forgery (a visitor's withdrawn photo, an empty job, is not).
    pub(super) fn accept(&mut self, job: &jetstream::Message) -> Option<(JobSpec, JobSecret)> {
        let subject = job.subject.as_str();
        let headers = job.headers.as_ref();
        let Some(text) = headers.and_then(|h| h.get(protocol::H_SPEC)).map(|v| v.as_str().to_string()) else {
            // A visitor left: their kiosk replaced the queued photo with an empty job.
            if !job.payload.is_empty() {
                self.forgeries
                    .dropped(&format!("a job on {subject}"), &format!("it has no {} header", protocol::H_SPEC));
            }
            return None;
        };
        let spec = match serde_json::from_str::<JobSpec>(&text) {
            Ok(spec) => spec,
            Err(e) => {
                self.forgeries.dropped(&format!("a job on {subject}"), &format!("its description is unreadable ({e})"));
                return None;
            }
        };
        // The subject names the kiosk (and only that kiosk may publish on it).
        if subject != protocol::job_subject(&spec.kiosk) {
            tracing::warn!("painter: job {} names kiosk {} but came on {subject}; dropped", spec.job, spec.kiosk);
            return None;
        }
        if let Some(identity) = &self.identity {
            let signed = (
                headers.and_then(|h| h.get(protocol::H_SIGNER)).map(|v| v.as_str()),
                headers.and_then(|h| h.get(protocol::H_SIGNATURE)).map(|v| v.as_str()),
            );
            let digest = trust::digest(&job.payload);
            if let Err(why) =
                identity.verify(signed, Role::Kiosk, &spec.kiosk, "job", &proofs::job_parts(subject, &text, &digest))
            {
                self.forgeries.dropped(&format!("job {} on {subject}", spec.job), &why);
                return None;
            }
        }
        let Some(secret) = JobSecret::from_hex(&spec.secret) else {
            self.forgeries.dropped(&format!("job {} on {subject}", spec.job), &"it carries no secret");
            return None;
        };
        Some((spec, secret))
    }

    /// Tells the kiosk of `subject` (`gp.jobs.<kiosk>`) that what was queued there was no job of it.
    pub(super) fn tell_displaced(&self, subject: &str) {
        let Some(kiosk) = subject.strip_prefix("gp.jobs.").filter(|k| protocol::valid_name(k)) else { return };
        let to = protocol::snapshot_subject(kiosk, protocol::DISPLACED);
        let _ = self.runtime.block_on(self.client.publish(to, Bytes::new()));
    }
}
