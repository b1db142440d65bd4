//! A demonstration played on a timeline: its events streamed (a recording
//! is read a line at a time, never loaded whole), and a playhead that
//! pauses, changes speed and seeks.
//!
//! A demonstration without a pen plays on its own clock: its events reach
//! the coverage with their own times (offset to the session's start), so
//! the density, the passes and the hand speed the cues measure are those
//! of the demonstration whatever the playback speed, and a pause or a seek
//! costs nothing but feeding the events again. A demonstration the pen
//! strikes for plays in real time at a fixed speed: the pen's strikes are
//! timed by the wall clock, so it cannot pause or seek.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::sync::Arc;

use bevy::prelude::*;
use penlab_simulator::recording::{self, Recording, time_of};
use penlab_simulator::session::{Event, StrikeSource};

use crate::options::{Demo, DemoStrikes};
use crate::pen::{FramePoses, Live, ToolPose};

/// At most this many events are fed in one frame while seeking, so the
/// window keeps drawing through a seek across a long recording.
pub const SEEK_EVENTS_PER_FRAME: usize = 200_000;

/// The speeds the panel offers, × real time.
pub const SPEEDS: [f64; 8] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 64.0];

/// Where a demonstration's events come from.
#[derive(Debug, Clone)]
pub enum DemoEvents {
    /// Events in memory (a script's, generated from its patterns).
    Memory(Arc<[Event]>),
    /// A recording on disk, read a line at a time as it plays.
    File(PathBuf),
}

impl DemoEvents {
    /// The time of the last event, s (a recording's from its tail).
    pub fn duration_s(&self) -> penlab_simulator::Result<Option<f64>> {
        match self {
            DemoEvents::Memory(events) => Ok(events.iter().rev().find_map(time_of)),
            DemoEvents::File(path) => recording::last_time(path),
        }
    }

    /// The first `n` events at most (what the camera looks at first).
    pub fn first(&self, n: usize) -> penlab_simulator::Result<Vec<Event>> {
        let mut cursor = EventCursor::open(self)?;
        let mut out = Vec::new();
        while out.len() < n {
            match cursor.next()? {
                Some(e) => out.push(e),
                None => break,
            }
        }
        Ok(out)
    }
}

/// Reads a demonstration's events in order, one ahead.
struct EventCursor {
    source: CursorSource,
    peeked: Option<Event>,
}

enum CursorSource {
    Memory { events: Arc<[Event]>, next: usize },
    File(Box<Recording<BufReader<File>>>),
}

impl EventCursor {
    fn open(events: &DemoEvents) -> penlab_simulator::Result<Self> {
        let source = match events {
            DemoEvents::Memory(events) => CursorSource::Memory {
                events: Arc::clone(events),
                next: 0,
            },
            DemoEvents::File(path) => CursorSource::File(Box::new(Recording::open(path)?)),
        };
        Ok(EventCursor {
            source,
            peeked: None,
        })
    }

    fn peek(&mut self) -> penlab_simulator::Result<Option<&Event>> {
        if self.peeked.is_none() {
            self.peeked = self.read()?;
        }
        Ok(self.peeked.as_ref())
    }

    fn next(&mut self) -> penlab_simulator::Result<Option<Event>> {
        match self.peeked.take() {
            Some(e) => Ok(Some(e)),
            None => self.read(),
        }
    }

    fn read(&mut self) -> penlab_simulator::Result<Option<Event>> {
        match &mut self.source {
            CursorSource::Memory { events, next } => {
                let event = events.get(*next).cloned();
                *next += usize::from(event.is_some());
                Ok(event)
            }
            CursorSource::File(recording) => recording.next().transpose(),
        }
    }
}

/// A demonstration being played.
#[derive(Resource)]
pub struct DemoPlayer {
    /// What plays.
    pub demo: Demo,
    cursor: EventCursor,
    /// Session time of the demonstration's time 0, s.
    base_t: f64,
    /// Demonstration time played up to, s.
    position_s: f64,
    /// Session time the playhead was last moved at, s.
    moved_at: f64,
    speed: f64,
    paused: bool,
    seek_to: Option<f64>,
    duration_s: Option<f64>,
    played: u64,
    ended: bool,
    error: Option<String>,
}

impl DemoPlayer {
    /// `demo` ready to play from its start at session time `now`.
    pub fn start(demo: Demo, now: f64) -> penlab_simulator::Result<Self> {
        let cursor = EventCursor::open(&demo.events)?;
        let duration_s = demo.events.duration_s()?;
        Ok(DemoPlayer {
            speed: demo.speed,
            demo,
            cursor,
            base_t: now,
            position_s: 0.0,
            moved_at: now,
            paused: false,
            seek_to: None,
            duration_s,
            played: 0,
            ended: false,
            error: None,
        })
    }

    /// Whether the timeline can pause, change speed and seek: not while
    /// the pen strikes in real time.
    pub fn has_timeline(&self) -> bool {
        self.demo.strikes != DemoStrikes::Pen
    }

    /// Demonstration time played up to, s.
    pub fn position_s(&self) -> f64 {
        self.seek_to.unwrap_or(self.position_s)
    }

    /// The demonstration's length, s, when known.
    pub fn duration_s(&self) -> Option<f64> {
        self.duration_s
    }

    /// How far through, 0 to 1.
    pub fn progress(&self) -> f32 {
        match self.duration_s {
            _ if self.ended => 1.0,
            Some(d) if d > 0.0 => (self.position_s() / d).clamp(0.0, 1.0) as f32,
            _ => 0.0,
        }
    }

    /// Playback speed, × real time.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Whether the playhead is paused.
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Whether a seek is still being fed.
    pub fn seeking(&self) -> bool {
        self.seek_to.is_some()
    }

    /// Events played so far.
    pub fn played(&self) -> u64 {
        self.played
    }

    /// Whether every event has played.
    pub fn finished(&self) -> bool {
        self.ended && self.seek_to.is_none()
    }

    /// Why the demonstration stopped early (a recording's bad line), if it did.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Pauses or resumes at session time `now` (a pen's demonstration
    /// plays on).
    pub fn set_paused(&mut self, paused: bool, now: f64) {
        if self.has_timeline() {
            self.catch_up(now);
            self.paused = paused;
        }
    }

    /// Plays on at `speed` × real time from session time `now`.
    pub fn set_speed(&mut self, speed: f64, now: f64) {
        if self.has_timeline() && speed.is_finite() && speed > 0.0 {
            self.catch_up(now);
            self.speed = speed;
        }
    }

    /// Moves the playhead to demonstration time `t`, s: forward by feeding
    /// the events up to it, back by starting the coverage afresh and
    /// feeding them from the start.
    pub fn seek(&mut self, t: f64) {
        if self.has_timeline() && t.is_finite() {
            self.seek_to = Some(t.max(0.0));
        }
    }

    /// The session time an event at demonstration time `t` is fed at.
    fn session_time(&self, t: f64) -> f64 {
        match self.demo.strikes {
            DemoStrikes::Pen => self.base_t + t / self.speed,
            DemoStrikes::Rate(_) | DemoStrikes::Recorded => self.base_t + t,
        }
    }

    /// Moves the playhead along by the session time since it last moved.
    fn catch_up(&mut self, now: f64) {
        if !self.paused && self.seek_to.is_none() {
            self.position_s += (now - self.moved_at).max(0.0) * self.speed;
        }
        self.moved_at = now;
    }

    /// Where the coverage's strikes come from while this plays.
    fn strike_source(&self) -> StrikeSource {
        match self.demo.strikes {
            DemoStrikes::Rate(hz) => StrikeSource::Rate(hz),
            DemoStrikes::Recorded | DemoStrikes::Pen => StrikeSource::Events,
        }
    }

    /// Feeds the events due at session time `now` (or up to a seek's
    /// target) into `live`; the poses played go to `frame` unless seeking,
    /// the tool follows the last.
    fn feed(&mut self, live: &mut Live, frame: &mut FramePoses, tool: &mut ToolPose, now: f64) {
        let target = match self.seek_to {
            Some(t) if t < self.position_s => {
                if let Err(e) = self.rewind(live) {
                    self.stop_with(format!("seeking back: {e}"));
                    return;
                }
                t
            }
            Some(t) => t,
            None => {
                self.catch_up(now);
                self.position_s
            }
        };
        let seeking = self.seek_to.is_some();
        let budget = if seeking {
            SEEK_EVENTS_PER_FRAME
        } else {
            usize::MAX
        };
        let mut fed = 0;
        while fed < budget {
            let event = match self.cursor.peek() {
                Ok(Some(e)) if time_of(e).is_none_or(|t| t <= target) => e.clone(),
                Ok(Some(_)) => break,
                Ok(None) => {
                    self.ended = true;
                    break;
                }
                Err(e) => {
                    self.stop_with(e.to_string());
                    break;
                }
            };
            let _ = self.cursor.next();
            fed += 1;
            self.played += 1;
            self.play(&event, live, frame, tool, seeking);
        }
        // A seek that ran out of budget goes on next frame.
        if seeking && (fed < budget || self.ended) {
            self.position_s = if self.ended {
                self.duration_s.unwrap_or(target).min(target)
            } else {
                target
            };
            self.seek_to = None;
            self.moved_at = now;
        }
    }

    fn play(
        &self,
        event: &Event,
        live: &mut Live,
        frame: &mut FramePoses,
        tool: &mut ToolPose,
        seeking: bool,
    ) {
        match event {
            Event::Pose(p) => {
                let pose = penlab_simulator::pose::Pose {
                    t: self.session_time(p.t),
                    ..*p
                };
                live.0.push_pose(pose);
                if !seeking {
                    frame.0.push(pose);
                }
                tool.pose = Some(pose);
                tool.contact = pose.force_n > 0.0;
            }
            // Recorded strikes land where the tool was; otherwise the pen
            // or the tool's rate strikes.
            Event::Strike { t, depth_mm } if self.demo.strikes == DemoStrikes::Recorded => {
                live.0.push_event(&Event::Strike {
                    t: self.session_time(*t),
                    depth_mm: *depth_mm,
                });
            }
            Event::Strike { .. } | Event::Header { .. } => {}
        }
    }

    /// Starts the coverage afresh and the events from their beginning.
    fn rewind(&mut self, live: &mut Live) -> penlab_simulator::Result<()> {
        live.0.start_demo(self.strike_source())?;
        self.cursor = EventCursor::open(&self.demo.events)?;
        self.position_s = 0.0;
        self.played = 0;
        self.ended = false;
        Ok(())
    }

    fn stop_with(&mut self, why: String) {
        error!("demonstration {}: {why}", self.demo.name);
        self.error = Some(why);
        self.ended = true;
        self.seek_to = None;
    }
}

/// How the last demonstration ended, for the panel (and tests): set when
/// its player goes.
#[derive(Resource, Debug, Clone)]
pub struct DemoEnded {
    /// What played.
    pub name: String,
    /// Events played.
    pub played: u64,
    /// Why it stopped before its end (a recording's bad line), if it did.
    pub error: Option<String>,
}

impl DemoPlayer {
    /// How this demonstration ended.
    pub fn ended(&self) -> DemoEnded {
        DemoEnded {
            name: self.demo.name.clone(),
            played: self.played,
            error: self.error.clone(),
        }
    }
}

/// Plays the demonstration's events due this frame.
pub(crate) fn play_demo(
    player: Option<ResMut<DemoPlayer>>,
    mut live: ResMut<Live>,
    mut frame: ResMut<FramePoses>,
    mut tool: ResMut<ToolPose>,
) {
    let Some(mut player) = player else {
        return;
    };
    let now = live.0.now();
    player.feed(&mut live, &mut frame, &mut tool, now);
}

/// Starts `demo` on fresh coverage at once (the panel's replay): returns
/// its player, to insert as a resource.
pub fn start_on_fresh_coverage(
    live: &mut Live,
    demo: Demo,
) -> penlab_simulator::Result<DemoPlayer> {
    let mut player = DemoPlayer::start(demo, 0.0)?;
    let now = live.0.start_demo(player.strike_source())?;
    player.base_t = now;
    player.moved_at = now;
    Ok(player)
}
