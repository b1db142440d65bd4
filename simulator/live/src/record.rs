//! Recording a live session in the coverage engine's recorded-session
//! format (JSON lines, see `simulator/README.md`), so `penlab sim
//! --headless` can score it and the view can play it again.
//!
//! A pen reports its strikes in batches, a little after the tool moved on,
//! while the format wants events in time order: the recorder holds events
//! back for [`HOLD_S`] and writes them sorted.

use std::collections::VecDeque;
use std::io::{self, Write};

use penlab_simulator::pose::Pose;
use penlab_simulator::script::record_line;
use penlab_simulator::session::Event;

/// How long events are held back to put late strikes in order, s.
pub const HOLD_S: f64 = 1.0;

/// Writes a live session as it happens.
pub struct Recorder<W: Write> {
    out: W,
    held: VecDeque<Event>,
    written_t: f64,
    events: u64,
}

fn time_of(event: &Event) -> f64 {
    match event {
        Event::Pose(p) => p.t,
        Event::Strike { t, .. } => *t,
        Event::Header { .. } => f64::NEG_INFINITY,
    }
}

impl<W: Write> Recorder<W> {
    /// Starts a recording with its header line.
    pub fn new(mut out: W, tool: &str, surface: &str) -> io::Result<Self> {
        let header = Event::Header {
            format: "penlab-session".into(),
            version: 1,
            tool: Some(tool.into()),
            surface: Some(surface.into()),
        };
        writeln!(out, "{}", line(&header)?)?;
        Ok(Recorder {
            out,
            held: VecDeque::new(),
            written_t: f64::NEG_INFINITY,
            events: 0,
        })
    }

    /// Records a pose.
    pub fn pose(&mut self, pose: &Pose) -> io::Result<()> {
        self.hold(Event::Pose(*pose))
    }

    /// Records a strike at `t` with its measured depth, mm.
    pub fn strike(&mut self, t: f64, depth_mm: f32) -> io::Result<()> {
        self.hold(Event::Strike {
            t,
            depth_mm: Some(depth_mm),
        })
    }

    /// Events written so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Writes everything held and flushes; gives the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        self.write_until(f64::INFINITY)?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn hold(&mut self, mut event: Event) -> io::Result<()> {
        let t = time_of(&event);
        if !t.is_finite() {
            return Ok(());
        }
        // Later than the hold allows: keep it, at the earliest time still open.
        if t < self.written_t {
            match &mut event {
                Event::Pose(p) => p.t = self.written_t,
                Event::Strike { t, .. } => *t = self.written_t,
                Event::Header { .. } => {}
            }
        }
        let t = time_of(&event);
        let at = self.held.partition_point(|e| time_of(e) <= t);
        self.held.insert(at, event);
        let newest = self.held.back().map_or(t, time_of);
        self.write_until(newest - HOLD_S)
    }

    fn write_until(&mut self, until: f64) -> io::Result<()> {
        while self.held.front().is_some_and(|e| time_of(e) <= until) {
            let Some(event) = self.held.pop_front() else {
                break;
            };
            self.written_t = time_of(&event);
            writeln!(self.out, "{}", line(&event)?)?;
            self.events += 1;
        }
        Ok(())
    }
}

fn line(event: &Event) -> io::Result<String> {
    record_line(event).map_err(|e| io::Error::other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::{Quat, Vec3};

    fn pose(t: f64) -> Pose {
        Pose {
            t,
            position: Vec3::new(t as f32, 0.0, 0.0),
            orientation: Quat::IDENTITY,
            force_n: 2.0,
            depth_mm: 0.5,
        }
    }

    #[test]
    fn late_strikes_are_written_in_time_order_and_replay_cleanly() {
        let mut rec = Recorder::new(Vec::new(), "pen-14", "flat-pad").unwrap();
        for k in 0..300 {
            let t = f64::from(k) * 0.01;
            rec.pose(&pose(t)).unwrap();
            // The batch for 50 ms ago arrives now.
            if k >= 5 {
                rec.strike(t - 0.05, 0.48).unwrap();
            }
        }
        let text = String::from_utf8(rec.finish().unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 300 + 295);
        let mut last = f64::NEG_INFINITY;
        for (i, l) in lines.iter().enumerate() {
            let e = penlab_simulator::script::parse_event(std::path::Path::new("rec"), i + 1, l)
                .unwrap();
            let t = time_of(&e);
            assert!(t >= last, "line {}: {t} after {last}", i + 1);
            last = t.max(last);
        }
        assert!(lines[1].contains("\"type\":\"pose\"") && lines[1].contains("\"depth_mm\":0.5"));
        assert!(text.contains("\"type\":\"strike\",\"t\":0.0,\"depth_mm\":0.48"));
    }
}
