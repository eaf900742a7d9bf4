//! The worker's events to the display, over a bounded channel: when the display stalls,
//! the **oldest** event makes room for the newest, so the worker never blocks and the
//! latest painting (a finished one above all) is what the display finds when it wakes.

use crossbeam_channel::{Receiver, Sender, TrySendError};

use super::messages::Event;

#[derive(Clone)]
pub struct Outbox {
    tx: Sender<Event>,
    /// A receiving handle kept only to discard the oldest event when full.
    drain: Receiver<Event>,
}

impl Outbox {
    /// An outbox holding at most `capacity` events, and the display's end of it.
    pub fn bounded(capacity: usize) -> (Outbox, Receiver<Event>) {
        let (tx, rx) = crossbeam_channel::bounded(capacity);
        (Outbox { tx, drain: rx.clone() }, rx)
    }

    /// A notice for the display (and the log, under `who`'s name): an error or news.
    pub fn notice(&self, who: &str, error: bool, text: String) {
        if error {
            tracing::warn!("{who}: {text}");
        } else {
            tracing::info!("{who}: {text}");
        }
        self.send(Event::Notice(super::Notice { error, text }));
    }

    pub fn send(&self, event: Event) {
        let mut event = event;
        // Two tries: the display may take an event between our drop and our send.
        for _ in 0..2 {
            match self.tx.try_send(event) {
                Ok(()) | Err(TrySendError::Disconnected(_)) => return,
                Err(TrySendError::Full(back)) => {
                    let _ = self.drain.try_recv();
                    event = back;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::painting::Notice;

    fn notice(i: usize) -> Event {
        Event::Notice(Notice { error: false, text: i.to_string() })
    }

    #[test]
    fn a_full_outbox_drops_the_oldest_and_keeps_the_newest() {
        let (outbox, display) = Outbox::bounded(3);
        for i in 0..10 {
            outbox.send(notice(i));
        }
        let kept: Vec<String> = display
            .try_iter()
            .map(|e| match e {
                Event::Notice(n) => n.text,
                other => panic!("{other:?}"),
            })
            .collect();
        // The last event sent (a finished painting, say) is always there for a stalled display.
        assert_eq!(kept, vec!["7", "8", "9"]);
    }
}
