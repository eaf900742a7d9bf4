//! The worker contract, the one seam between the display and whoever paints: commands and
//! frames go in, events come out, and a status can be read at any time. A local thread
//! (`crate::worker`) and the farm's remote worker (`crate::farm::remote`) both hand out this.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use super::messages::{Command, Event, WorkerStatus};

pub struct WorkerHandle {
    pub commands: Sender<Command>,
    pub events: Receiver<Event>,
    pub status: Arc<Mutex<WorkerStatus>>,
    thread: Option<JoinHandle<()>>,
}

impl WorkerHandle {
    pub fn new(
        commands: Sender<Command>,
        events: Receiver<Event>,
        status: Arc<Mutex<WorkerStatus>>,
        thread: JoinHandle<()>,
    ) -> WorkerHandle {
        WorkerHandle { commands, events, status, thread: Some(thread) }
    }
    pub fn status(&self) -> WorkerStatus {
        self.status.lock().expect("worker status lock").clone()
    }
    pub fn shutdown(&mut self) {
        let _ = self.commands.send(Command::Shutdown);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Shutdown);
    }
}
