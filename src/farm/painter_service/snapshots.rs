//! A visitor's painting in progress, sent to its kiosk from a thread of its own. JPEG-encoding
//! a 1536 px snapshot takes ~70 ms on a CPU core; done on the painting thread, the GPU waited
//! for every one (an H200 painter took ~10 s a painting that its steps did in 3.4 s). The
//! newest snapshot wins: one still waiting when the next comes is dropped, which the kiosk
//! never misses (it shows the furthest iteration and ignores a job that is over).

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use bytes::Bytes;
use image::RgbImage;

use crate::engine::imageio;
use crate::farm::proofs;
use crate::farm::trust::JobSecret;

struct Waiting {
    subject: String,
    headers: async_nats::HeaderMap,
    /// The job's secret: the snapshot's proof covers the JPEG, so it is made after encoding.
    secret: JobSecret,
    image: Arc<RgbImage>,
}

#[derive(Default)]
struct Slot {
    next: Option<Waiting>,
    closed: bool,
}

pub(super) struct SnapshotSender {
    slot: Arc<(Mutex<Slot>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl SnapshotSender {
    pub(super) fn start(runtime: tokio::runtime::Handle, client: async_nats::Client, quality: u8) -> SnapshotSender {
        let slot: Arc<(Mutex<Slot>, Condvar)> = Arc::default();
        let shared = slot.clone();
        let thread = std::thread::Builder::new()
            .name("painter-snapshots".into())
            .spawn(move || {
                let (lock, ready) = &*shared;
                loop {
                    let next = {
                        let mut s = lock.lock().expect("snapshot slot");
                        while s.next.is_none() && !s.closed {
                            s = ready.wait(s).expect("snapshot slot");
                        }
                        match s.next.take() {
                            Some(w) => w,
                            None => return, // closed
                        }
                    };
                    let body = Bytes::from(imageio::encode_jpeg(&next.image, quality));
                    let mut headers = next.headers;
                    proofs::prove_output(&next.secret, &next.subject, &mut headers, &body);
                    // Core NATS: a kiosk that is not listening misses it, and that is fine.
                    let _ = runtime.block_on(client.publish_with_headers(next.subject, headers, body));
                }
            })
            .expect("start the snapshot thread");
        SnapshotSender { slot, thread: Some(thread) }
    }

    /// Sends `image` as soon as the thread is free, in place of any snapshot still waiting.
    pub(super) fn send(
        &self,
        subject: String,
        headers: async_nats::HeaderMap,
        secret: JobSecret,
        image: Arc<RgbImage>,
    ) {
        let (lock, ready) = &*self.slot;
        lock.lock().expect("snapshot slot").next = Some(Waiting { subject, headers, secret, image });
        ready.notify_one();
    }

    /// The job is over: a snapshot still waiting is not sent.
    pub(super) fn drop_waiting(&self) {
        self.slot.0.lock().expect("snapshot slot").next = None;
    }
}

impl Drop for SnapshotSender {
    fn drop(&mut self) {
        let (lock, ready) = &*self.slot;
        lock.lock().expect("snapshot slot").closed = true;
        ready.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
