//! What arrives from the farm for this kiosk: snapshots and paintings, decoded once they
//! prove that a painter given the job sent them; a painter's word that what was queued for
//! this kiosk was no job of it; and the painters alive, each proving its announcements.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use crossbeam_channel::Sender;
use futures_util::StreamExt;

use super::{Incoming, Ready};
use crate::farm::proofs;
use crate::farm::protocol::{self, Progress};
use crate::farm::setup::{self, KioskRefusal};
use crate::farm::trust::{self, ForgeryLog, Identity, JobSecret};
use crate::painting::PainterSeen;
use crate::painting::outbox::Outbox;

/// What comes from the farm for this kiosk.
pub(super) enum FromFarm {
    /// A snapshot or painting of a job or mirror of this kiosk's, proven.
    Picture(Incoming),
    /// A painter found what this kiosk had queued was no job of it (an empty or forged one):
    /// this kiosk's job may have been put out of the queue by it.
    Displaced,
}

/// The secrets of what this kiosk has out (its job, its Live session), shared with the
/// receiving tasks: a message is decoded only once it proves a painter given the job sent it.
#[derive(Default)]
pub(super) struct Proofs {
    pub(super) secrets: std::collections::HashMap<String, JobSecret>,
    pub(super) forgeries: u64,
    log: ForgeryLog,
}

impl Proofs {
    /// Was the message on `subject` (of `job`) sent by a painter given the job? An unknown job
    /// (an earlier one of this kiosk) is not taken, and is no forgery.
    pub(super) fn proven(
        &mut self,
        subject: &str,
        job: &str,
        headers: &async_nats::HeaderMap,
        digest: &[u8; 32],
    ) -> bool {
        let Some(secret) = self.secrets.get(job) else { return false };
        if proofs::output_proven(secret, subject, headers, digest) {
            return true;
        }
        self.forgery(subject, &"its proof does not match the job's secret");
        false
    }

    pub(super) fn forgery(&mut self, what: &str, why: &dyn std::fmt::Display) {
        self.forgeries += 1;
        self.log.dropped(what, why);
    }
}

/// Snapshots and results of this kiosk, each decoded as it comes once it proves a painter
/// given the job sent it (newest last).
pub(super) async fn receive(
    mut subscription: async_nats::Subscriber,
    to_worker: Sender<FromFarm>,
    proofs: Arc<Mutex<Proofs>>,
) {
    let displaced = format!(".{}", protocol::DISPLACED);
    while let Some(message) = subscription.next().await {
        if message.subject.as_str().ends_with(&displaced) {
            let _ = to_worker.try_send(FromFarm::Displaced);
            continue;
        }
        let Some(headers) = message.headers else { continue };
        let Some(progress) = Progress::from_headers(&headers) else { continue };
        let (subject, payload, proofs) = (message.subject.to_string(), message.payload, proofs.clone());
        let decoded = tokio::task::spawn_blocking(move || {
            let digest = trust::digest(&payload);
            let proven = proofs.lock().expect("farm proofs").proven(&subject, &progress.job, &headers, &digest);
            proven.then(|| Incoming::decode(progress, &headers, &payload))
        })
        .await;
        let Ok(Some(incoming)) = decoded else { continue };
        // Full (the worker busy): the oldest snapshots are the ones to lose, but a finished
        // one is also fetched from the results stream, so dropping here loses nothing.
        let _ = to_worker.try_send(FromFarm::Picture(incoming));
    }
}

/// Which painters are alive: each seen announcing itself anew (a greater `seq`) within the
/// announcements' lifetime, its key still in the bucket. A copy of an old announcement keeps
/// no dead painter alive, and puts no living one out of the list.
#[derive(Default)]
struct Liveness {
    /// Painter -> its announcement of the greatest `seq` seen, and when that was first seen.
    seen: std::collections::HashMap<String, (protocol::Announcement, Instant)>,
}

impl Liveness {
    /// `keys`: every key in the bucket now (an announcement that proves nothing included).
    fn alive(&mut self, announced: Vec<protocol::Announcement>, keys: &[String]) -> Vec<protocol::Announcement> {
        let now = Instant::now();
        for a in announced {
            match self.seen.get(&a.name) {
                Some((newest, _)) if a.seq <= newest.seq => {}
                _ => {
                    self.seen.insert(a.name.clone(), (a, now));
                }
            }
        }
        // A painter silent for a minute is forgotten (one started again with its clock set
        // back is then believed).
        self.seen.retain(|_, (_, at)| now.duration_since(*at) < Duration::from_secs(60));
        let mut alive: Vec<protocol::Announcement> = self
            .seen
            .iter()
            .filter(|(name, (_, at))| keys.contains(name) && now.duration_since(*at) < protocol::ANNOUNCE_TTL)
            .map(|(_, (a, _))| a.clone())
            .collect();
        alive.sort_by(|a, b| a.name.cmp(&b.name));
        alive
    }
}

/// Opens the farm once the server answers (and farm-setup has made this kiosk's streams), then keeps the
/// list of painters alive.
pub(super) async fn keep_ready(
    client: async_nats::Client,
    kiosk: String,
    setup: Arc<Mutex<Option<Ready>>>,
    painters: Arc<Mutex<Vec<PainterSeen>>>,
    events: Outbox,
    identity: Option<Arc<Identity>>,
    proofs: Arc<Mutex<Proofs>>,
) {
    let js = jetstream::new(client.clone());
    let mut said = String::new();
    let kv = loop {
        if client.connection_state() == async_nats::connection::State::Connected {
            let max_payload = crate::farm::connection::max_payload(&client);
            match setup::open_for_kiosk(&js, &kiosk, max_payload).await {
                Ok(s) => {
                    *setup.lock().expect("farm setup") =
                        Some(Ready { styles: s.styles, leases: s.leases, results: s.results });
                    tracing::info!("farm: ready (kiosk {kiosk})");
                    break s.announcements;
                }
                Err(KioskRefusal::NotSetUp(text)) => {
                    if text != said {
                        tracing::warn!("farm: the server answers but {text}");
                        said = text;
                    }
                }
                Err(KioskRefusal::WrongShape(text)) => {
                    // Said on screen for the technician (F12) and in the log, once.
                    if text != said {
                        events.notice("farm", true, text.clone());
                        said = text;
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let mut liveness = Liveness::default();
    loop {
        if client.connection_state() == async_nats::connection::State::Connected {
            let (announced, forged) = proofs::painters_alive(&kv, identity.as_deref()).await;
            let mut keys: Vec<String> = announced.iter().map(|a| a.name.clone()).collect();
            for (key, why) in forged {
                proofs.lock().expect("farm proofs").forgery(&format!("the announcement of painter {key}"), &why);
                keys.push(key);
            }
            let seen = liveness
                .alive(announced, &keys)
                .into_iter()
                .map(|a| PainterSeen {
                    name: a.name,
                    device: a.device,
                    iterations_per_second: a.iterations_per_second,
                    busy: a.busy,
                })
                .collect();
            *painters.lock().expect("painters") = seen;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn announced(name: &str, seq: u64) -> protocol::Announcement {
        protocol::Announcement { name: name.into(), seq, ..Default::default() }
    }

    #[test]
    fn a_painter_is_alive_while_it_announces_itself_anew_and_a_copy_of_an_old_announcement_changes_nothing() {
        let mut l = Liveness::default();
        let keys = vec!["p1".to_string()];
        assert_eq!(l.alive(vec![announced("p1", 5)], &keys).len(), 1, "seen for the first time");
        // An older announcement copied back in (the painter's newest stays what counts).
        let alive = l.alive(vec![announced("p1", 3)], &keys);
        assert_eq!(alive.iter().map(|a| a.seq).collect::<Vec<_>>(), [5]);
        // Its key gone from the bucket (stopped, or its entry expired): not alive.
        assert!(l.alive(vec![], &[]).is_empty());
        // The same announcement for longer than an announcement lives: a painter that stopped.
        let entry = l.seen.get_mut("p1").unwrap();
        entry.1 -= protocol::ANNOUNCE_TTL;
        assert!(l.alive(vec![announced("p1", 5)], &keys).is_empty(), "a copy keeps no dead painter alive");
        assert_eq!(l.alive(vec![announced("p1", 6)], &keys).len(), 1, "announced anew");
    }
}
