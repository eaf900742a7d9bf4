//! The paint loop, written once for both painters: the kiosk's worker thread
//! (`crate::worker`) and the farm's painter process (`crate::farm::painter_service`, a
//! visitor's painting and the Live mirror). Each step runs the engine with whatever drill is
//! due, says when a snapshot is due (every so many steps, no more often than an interval,
//! and at once for a new painting), and the snapshots taken are gathered for the making-of
//! where the painting is made. What a painter does around it (commands and frames on a
//! thread, jobs and leases on the farm, what an out-of-memory error means) stays its own.

use std::sync::Arc;
use std::time::{Duration, Instant};

use image::RgbImage;

use super::Fault;
use super::making_of::{self, MakingOf};
use crate::engine::{EngineError, Progress, Refiner};

/// How often a painting in progress is shown: every `every` steps, and no more often than
/// `interval` (each snapshot is a copy from the device; on a GPU one every 2 iterations made
/// a painting take 3.6 times as long as the steps alone).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pacing {
    pub every: u32,
    pub interval: Duration,
}

/// One step's outcome.
#[derive(Clone, Copy, Debug)]
pub struct Stepped {
    pub progress: Progress,
    /// The schedule has run to its end.
    pub finished: bool,
    /// Time for a snapshot ([`PaintLoop::snapshot`]); a finished painting is the caller's to show.
    pub snapshot_due: bool,
}

/// The engine, its snapshot pacing, its drills and the making-of of the painting in hand.
pub struct PaintLoop {
    pub engine: Refiner,
    /// "worker" or "painter": who the drills' messages name.
    who: &'static str,
    pacing: Pacing,
    steps_since_snapshot: u32,
    last_snapshot: Option<Instant>,
    snapshot_due: bool,
    /// None: not gathered (the Live mirror has no take-home).
    making_of: Option<MakingOf>,
    injected: Option<Fault>,
    /// Drills at a time after `started` (the painter process's schedule), soonest first.
    scheduled: Vec<(Duration, Fault)>,
    started: Instant,
}

impl PaintLoop {
    pub fn new(engine: Refiner, who: &'static str, pacing: Pacing, gather_making_of: bool) -> PaintLoop {
        PaintLoop {
            engine,
            who,
            pacing,
            steps_since_snapshot: 0,
            last_snapshot: None,
            snapshot_due: false,
            making_of: gather_making_of.then(MakingOf::default),
            injected: None,
            scheduled: Vec::new(),
            started: Instant::now(),
        }
    }

    pub fn set_pacing(&mut self, pacing: Pacing) {
        self.pacing = pacing;
    }

    /// Whether the making-of is gathered (a visitor's painting) or not (the mirror).
    pub fn set_gathering(&mut self, on: bool) {
        if on != self.making_of.is_some() {
            self.making_of = on.then(MakingOf::default);
        }
    }

    /// The next step meets `fault` (a drill from the console or the app's schedule).
    pub fn inject(&mut self, fault: Fault) {
        self.injected = Some(fault);
    }

    /// Drills at times after this loop was made.
    pub fn schedule(&mut self, mut faults: Vec<(Duration, Fault)>) {
        faults.sort_by_key(|(at, _)| *at);
        self.scheduled = faults;
    }

    /// A new painting begins (a frame, a style, a job): its first snapshot is due at the next
    /// step and its making-of starts again.
    pub fn new_painting(&mut self) {
        self.show_next();
        if let Some(m) = &mut self.making_of {
            *m = MakingOf::default();
        }
    }

    /// The next step's snapshot is due (the mirror took a new frame).
    pub fn show_next(&mut self) {
        self.snapshot_due = true;
        self.steps_since_snapshot = 0;
    }

    /// The photo, the painting and its making-of are dropped (the visitor left).
    pub fn forget(&mut self) {
        self.engine.forget();
        self.snapshot_due = false;
        if let Some(m) = &mut self.making_of {
            *m = MakingOf::default();
        }
    }

    /// One step of the engine, with the drill that is due.
    pub fn step(&mut self) -> Result<Stepped, EngineError> {
        let progress = match self.due_fault() {
            Some(Fault::Panic) => panic!("injected fault: {} panic", self.who),
            Some(Fault::OutOfMemory) => return Err(EngineError::Torch("CUDA out of memory (injected fault)".into())),
            Some(Fault::Hang(d)) => {
                tracing::warn!("injected fault: the {} hangs for {:.0} s", self.who, d.as_secs_f64());
                std::thread::sleep(d);
                self.engine.step()?
            }
            None => self.engine.step()?,
        };
        self.steps_since_snapshot += 1;
        let interval_over = self.last_snapshot.is_none_or(|t| t.elapsed() >= self.pacing.interval);
        let snapshot_due =
            self.snapshot_due || (self.steps_since_snapshot >= self.pacing.every.max(1) && interval_over);
        Ok(Stepped { progress, finished: self.engine.is_finished(), snapshot_due })
    }

    fn due_fault(&mut self) -> Option<Fault> {
        if let Some(f) = self.injected.take() {
            return Some(f);
        }
        let elapsed = self.started.elapsed();
        let due = self.scheduled.first().is_some_and(|(at, _)| *at <= elapsed);
        due.then(|| self.scheduled.remove(0).1)
    }

    /// The painting as it is now, kept for the making-of; the pacing counts from here.
    pub fn snapshot(&mut self) -> Result<Arc<RgbImage>, EngineError> {
        let image = Arc::new(self.engine.painting()?);
        self.snapshot_due = false;
        self.steps_since_snapshot = 0;
        self.last_snapshot = Some(Instant::now());
        if let Some(m) = &mut self.making_of {
            let p = self.engine.progress();
            let at = making_of::progress(p.level, p.levels, p.iteration, p.total_iterations, self.engine.is_finished());
            m.add(at, image.clone());
        }
        Ok(image)
    }

    /// The making-of gathered so far (then started again).
    pub fn take_making_of(&mut self) -> MakingOf {
        self.making_of.as_mut().map(std::mem::take).unwrap_or_default()
    }
}
