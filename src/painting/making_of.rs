//! The making-of, gathered where the painting is made (the kiosk's worker and the farm's
//! painter alike, [`super::paint_loop`]): a few of a painting's progressive snapshots, evenly
//! spread from the first to the finished one, kept in memory while it is painted. The
//! take-home page plays them as an animation ([`crate::share::making_of`]).

use std::sync::Arc;

use image::RgbImage;

/// Frames of a making-of (the first sketch to the finished painting).
pub const FRAMES: usize = 12;

/// Candidate places per frame: snapshots are kept on a finer grid than the frames, so that a
/// painting whose snapshots came unevenly (a CPU's first level fast, its last slow; a kiosk
/// that missed some) still gives `frames` different pictures, chosen evenly at the end.
const CANDIDATES_PER_FRAME: usize = 4;

/// Evenly spread snapshots: candidate place `k` of `m` keeps the one nearest to `k / (m - 1)`
/// of the way; [`MakingOf::frames`] picks `frames` of them, evenly, each a different snapshot.
#[derive(Clone, Debug)]
pub struct MakingOf {
    slots: Vec<Option<(f64, Arc<RgbImage>)>>,
    frames: usize,
}

impl Default for MakingOf {
    fn default() -> Self {
        MakingOf::new(FRAMES)
    }
}

impl MakingOf {
    pub fn new(frames: usize) -> MakingOf {
        let frames = frames.max(2);
        MakingOf { slots: vec![None; (frames - 1) * CANDIDATES_PER_FRAME + 1], frames }
    }

    /// A snapshot `progress` of the way through its painting (0 the start, 1 finished).
    /// Only the image's `Arc` is kept: nothing is copied.
    pub fn add(&mut self, progress: f64, image: Arc<RgbImage>) {
        let last = (self.slots.len() - 1) as f64;
        let at = progress.clamp(0.0, 1.0) * last;
        let slot = at.round() as usize;
        let distance = (at - slot as f64).abs();
        let keep = match &self.slots[slot] {
            Some((d, _)) => distance <= *d,
            None => true,
        };
        if keep {
            self.slots[slot] = Some((distance, image));
        }
    }

    /// The frames, first to last: `frames` of the snapshots kept (all of them when fewer were
    /// made), each nearest to its even share of the way, none twice; the last place kept (the
    /// finished painting, when it was added) always ends it.
    pub fn frames(&self) -> Vec<Arc<RgbImage>> {
        self.pictures(self.chosen(false))
    }

    /// The frames before the finished painting (what a painter sends beside the painting): as
    /// [`MakingOf::frames`] with the painting's place counted, and left out.
    pub fn frames_before_last(&self) -> Vec<Arc<RgbImage>> {
        let last = self.slots.len() - 1;
        self.pictures(self.chosen(true).into_iter().filter(|&i| i != last).collect())
    }

    fn pictures(&self, places: Vec<usize>) -> Vec<Arc<RgbImage>> {
        places.into_iter().filter_map(|i| self.slots[i].as_ref().map(|(_, image)| image.clone())).collect()
    }

    /// The places of the frames. `painting_last`: the last place counts as taken (the
    /// finished painting goes there later).
    fn chosen(&self, painting_last: bool) -> Vec<usize> {
        let last = self.slots.len() - 1;
        let kept: Vec<usize> =
            (0..self.slots.len()).filter(|&i| self.slots[i].is_some() || (painting_last && i == last)).collect();
        if kept.len() <= self.frames {
            return kept;
        }
        let mut chosen: Vec<usize> = Vec::with_capacity(self.frames);
        let mut next = 0; // the first of `kept` still free
        for k in 0..self.frames {
            let target = last as f64 * k as f64 / (self.frames - 1) as f64;
            // The nearest free place, leaving one for each frame still to come.
            let room = kept.len() - (self.frames - 1 - k);
            let at = (next..room)
                .min_by(|&a, &b| (kept[a] as f64 - target).abs().total_cmp(&(kept[b] as f64 - target).abs()))
                .unwrap_or(next);
            chosen.push(kept[at]);
            next = at + 1;
        }
        chosen
    }

    /// A painter's frames, first to last, with the last place left for the painting.
    pub fn from_frames(frames: &[Arc<RgbImage>]) -> MakingOf {
        let mut m = MakingOf::new(frames.len() + 1);
        m.slots = vec![None; frames.len() + 1];
        for (slot, frame) in m.slots.iter_mut().zip(frames) {
            *slot = Some((0.0, frame.clone()));
        }
        m
    }

    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none)
    }
}

/// How far through a painting of `levels` levels a snapshot is: each level (coarse to fine)
/// is an equal share.
pub fn progress(level: u32, levels: u32, iteration: u32, total_iterations: u32, finished: bool) -> f64 {
    if finished {
        return 1.0;
    }
    let within = iteration as f64 / total_iterations.max(1) as f64;
    ((level as f64 + within.min(1.0)) / levels.max(1) as f64).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(value: u8, side: u32) -> Arc<RgbImage> {
        Arc::new(RgbImage::from_pixel(side, side, image::Rgb([value, 0, 0])))
    }

    #[test]
    fn snapshots_are_kept_evenly_spread_nearest_to_each_mark() {
        let mut m = MakingOf::new(3);
        // Marks at 0, 0.5, 1: of 0.4 and 0.55 the nearer to 0.5 stays.
        for (p, v) in [(0.0, 1), (0.1, 2), (0.4, 3), (0.55, 4), (0.9, 5), (1.0, 6)] {
            m.add(p, frame(v, 2));
        }
        let kept: Vec<u8> = m.frames().iter().map(|f| f.get_pixel(0, 0)[0]).collect();
        assert_eq!(kept, vec![1, 4, 6]);
        // A painter sends those before the painting's place; the kiosk puts the painting there.
        let sent = m.frames_before_last();
        assert_eq!(sent.len(), 2);
        let mut at_kiosk = MakingOf::from_frames(&sent);
        at_kiosk.add(1.0, frame(9, 2));
        let kept: Vec<u8> = at_kiosk.frames().iter().map(|f| f.get_pixel(0, 0)[0]).collect();
        assert_eq!(kept, vec![1, 4, 9]);
        // Progress over levels: level 1 of 2, halfway, is three quarters of the way.
        assert_eq!(progress(1, 2, 50, 100, false), 0.75);
        assert_eq!(progress(0, 2, 10, 100, true), 1.0);
    }

    #[test]
    fn snapshots_that_came_unevenly_still_give_twelve_different_frames_in_order() {
        // A CPU painting: its coarse level flies (many snapshots early), its fine one crawls.
        let mut m = MakingOf::default();
        let early = (0..10).map(|i| i as f64 * 0.05);
        let late = [0.55, 0.7, 0.85];
        for (v, p) in early.chain(late).enumerate() {
            m.add(p, frame(v as u8 + 1, 2));
        }
        m.add(1.0, frame(99, 2));
        let kept: Vec<u8> = m.frames().iter().map(|f| f.get_pixel(0, 0)[0]).collect();
        assert_eq!(kept.len(), FRAMES, "{kept:?}");
        assert!(kept.windows(2).all(|w| w[0] < w[1]), "in order, none twice: {kept:?}");
        assert_eq!((kept[0], kept[FRAMES - 1]), (1, 99), "from the first sketch to the painting");
        // Fewer snapshots than frames: all of them, none made up.
        let mut few = MakingOf::default();
        for (v, p) in [0.0, 0.5, 1.0].into_iter().enumerate() {
            few.add(p, frame(v as u8, 2));
        }
        assert_eq!(few.frames().len(), 3);
    }
}
