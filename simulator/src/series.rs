//! The session along time: the hand's speed, the density under the tool
//! and the needle depth at each pose on the skin, with the bands they are
//! judged against, decimated to a few hundred points for the trainee's
//! graphs and the JSON report.
//!
//! [`SeriesRecorder`] takes every pose with what the cues measured there
//! ([`Cues::sample`]) and keeps at most [`MAX_BUCKETS`] time buckets:
//! when the session outgrows them, neighbouring buckets merge and the
//! bucket doubles, so memory stays fixed whatever the session's length.
//! [`Recorded`] feeds a session, its cues and a recorder together.

use glam::Vec3;
use serde::{Deserialize, Serialize};

use crate::cues::{Cues, Observed, Sample};
use crate::metrics::MetricsConfig;
use crate::pose::Pose;
use crate::session::{Event, EventSink, StrikeSource};

/// At most this many buckets are kept; a finished series has between half
/// this many and this many points (fewer for a session shorter than
/// `MAX_BUCKETS` × [`FIRST_BUCKET_S`]).
pub const MAX_BUCKETS: usize = 400;
/// The first bucket width, s.
pub const FIRST_BUCKET_S: f64 = 0.02;

/// One time bucket of the series: means of what was measured in it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// The bucket's middle, s on the session's clock.
    pub t: f64,
    /// Mean hand speed along the skin, mm/s (none while too little
    /// contact to measure it).
    pub speed_mm_s: Option<f64>,
    /// Mean density under the tool, punctures/cm² (the metrics' window).
    pub density_per_cm2: f64,
    /// Deepest needle depth, mm.
    pub depth_mm: f64,
    /// The strictest zone depth limit touched, mm, if any zone had one.
    pub depth_limit_mm: Option<f64>,
}

/// The session's time series and its bands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// First pose, s.
    pub start_s: f64,
    /// Last pose, s.
    pub end_s: f64,
    /// Width of each point's bucket, s.
    pub bucket_s: f64,
    /// The speed band (pens), mm/s, as the cues' report has it.
    pub speed_band_mm_s: Option<[f64; 2]>,
    /// The speed that gives the middle of the density band (pens), mm/s.
    pub speed_target_mm_s: Option<f64>,
    /// The target density band, punctures/cm².
    pub density_band_per_cm2: [f64; 2],
    /// Above this density a place is a hot spot, punctures/cm².
    pub hot_above_per_cm2: f64,
    /// The tool's mean axis where it touched (skin towards tool), unit.
    pub work_direction: Option<Vec3>,
    /// Buckets with the tool on the skin, in time order (lifted buckets
    /// are left out).
    pub points: Vec<Point>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    samples: u32,
    speeds: u32,
    speed_sum: f64,
    density_sum: f64,
    depth_max: f64,
    limit_min: Option<f64>,
}

impl Bucket {
    fn add(&mut self, s: &Sample) {
        self.samples += 1;
        if let Some(v) = s.speed_mm_s {
            self.speeds += 1;
            self.speed_sum += v;
        }
        self.density_sum += s.density_per_cm2;
        self.depth_max = self.depth_max.max(s.depth_mm);
        self.limit_min = min_opt(self.limit_min, s.depth_limit_mm);
    }

    fn merged(self, o: Bucket) -> Bucket {
        Bucket {
            samples: self.samples + o.samples,
            speeds: self.speeds + o.speeds,
            speed_sum: self.speed_sum + o.speed_sum,
            density_sum: self.density_sum + o.density_sum,
            depth_max: self.depth_max.max(o.depth_max),
            limit_min: min_opt(self.limit_min, o.limit_min),
        }
    }
}

fn min_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Collects a session's series pose by pose, in fixed memory.
#[derive(Debug, Clone)]
pub struct SeriesRecorder {
    start: Option<f64>,
    end: f64,
    bucket_s: f64,
    buckets: Vec<Bucket>,
    work: Vec3,
}

impl Default for SeriesRecorder {
    fn default() -> Self {
        Self {
            start: None,
            end: 0.0,
            bucket_s: FIRST_BUCKET_S,
            buckets: Vec::new(),
            work: Vec3::ZERO,
        }
    }
}

impl SeriesRecorder {
    /// Takes a pose and what the cues measured at it (`None` when lifted
    /// or off the skin).
    pub fn observe(&mut self, pose: &Pose, sample: Option<Sample>) {
        if !pose.t.is_finite() {
            return;
        }
        let start = *self.start.get_or_insert(pose.t);
        self.end = self.end.max(pose.t);
        let Some(sample) = sample else {
            return;
        };
        self.work += pose.axis();
        let mut i = ((pose.t - start) / self.bucket_s).max(0.0) as usize;
        while i >= MAX_BUCKETS {
            self.halve();
            i = ((pose.t - start) / self.bucket_s).max(0.0) as usize;
        }
        if self.buckets.len() <= i {
            self.buckets.resize(i + 1, Bucket::default());
        }
        self.buckets[i].add(&sample);
    }

    /// Merges neighbouring buckets: half as many, twice as wide.
    fn halve(&mut self) {
        self.buckets = self
            .buckets
            .chunks(2)
            .map(|p| p.iter().copied().fold(Bucket::default(), Bucket::merged))
            .collect();
        self.bucket_s *= 2.0;
    }

    /// The series so far, with the bands of `cues` and `metrics`.
    pub fn series(&self, cues: &Cues, metrics: &MetricsConfig) -> Series {
        let start = self.start.unwrap_or(0.0);
        let points = self
            .buckets
            .iter()
            .enumerate()
            .filter(|(_, b)| b.samples > 0)
            .map(|(i, b)| Point {
                t: start + (i as f64 + 0.5) * self.bucket_s,
                speed_mm_s: (b.speeds > 0).then(|| b.speed_sum / f64::from(b.speeds)),
                density_per_cm2: b.density_sum / f64::from(b.samples),
                depth_mm: b.depth_max,
                depth_limit_mm: b.limit_min,
            })
            .collect();
        Series {
            start_s: start,
            end_s: self.end.max(start),
            bucket_s: self.bucket_s,
            speed_band_mm_s: cues.speed_band().map(|b| [b.low_mm_s, b.high_mm_s]),
            speed_target_mm_s: cues.target_speed_mm_s(),
            density_band_per_cm2: metrics.band_per_cm2,
            hot_above_per_cm2: metrics.hot_above_per_cm2,
            work_direction: self.work.try_normalize(),
            points,
        }
    }
}

/// A session, its cues and a series recorder fed together: the session
/// and cues take each event as [`Observed`] does, then the recorder reads
/// the cues' sample of each pose.
pub struct Recorded<'a> {
    /// The session and its cues.
    pub observed: Observed<'a>,
    /// The series.
    pub series: &'a mut SeriesRecorder,
}

impl EventSink for Recorded<'_> {
    fn push(&mut self, event: &Event) {
        self.observed.push(event);
        if let Event::Pose(pose) = event {
            let sample = self.observed.cues.sample(self.observed.session);
            self.series.observe(pose, sample);
        }
    }

    fn set_strike_source(&mut self, source: StrikeSource) {
        self.observed.set_strike_source(source);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::Quat;

    fn sample(t: f64, v: f64) -> Sample {
        Sample {
            t,
            speed_mm_s: Some(v),
            density_per_cm2: 2.0 * v,
            depth_mm: t,
            depth_limit_mm: (t > 5.0).then_some(0.5),
        }
    }

    fn pose(t: f64) -> Pose {
        Pose {
            t,
            position: Vec3::ZERO,
            orientation: Quat::IDENTITY,
            force_n: 1.0,
            depth_mm: 0.5,
        }
    }

    #[test]
    fn a_long_session_is_decimated_into_fixed_memory_keeping_its_values() {
        let mut r = SeriesRecorder::default();
        // 100 s at 1 kHz, speed 100 mm/s throughout, lifted between 40 and 50 s.
        for k in 0..100_000 {
            let t = f64::from(k) / 1000.0;
            let lifted = (40.0..50.0).contains(&t);
            r.observe(&pose(t), (!lifted).then(|| sample(t, 100.0)));
            assert!(r.buckets.len() <= MAX_BUCKETS);
        }
        let cues = crate::cues::Cues::new(
            std::sync::Arc::new(
                crate::surfaces::builtin(
                    "flat-pad",
                    &crate::surfaces::ZoneLimits::shipped().unwrap(),
                    16,
                )
                .unwrap(),
            ),
            std::sync::Arc::new(
                crate::tool::ToolProfiles::shipped()
                    .unwrap()
                    .tool("stamp-35")
                    .unwrap(),
            ),
            &MetricsConfig::default(),
            crate::cues::CueConfig::default(),
        );
        let s = r.series(&cues, &MetricsConfig::default());
        assert!(
            (MAX_BUCKETS / 2..=MAX_BUCKETS).contains(&s.points.len()),
            "{}",
            s.points.len()
        );
        assert_eq!(s.work_direction, Some(Vec3::Z));
        assert!((s.end_s - 99.999).abs() < 1e-9);
        assert!(s.points.iter().all(|p| p.speed_mm_s == Some(100.0)));
        assert!(s.points.iter().all(|p| p.density_per_cm2 == 200.0));
        // The lift leaves a hole in time.
        assert!(!s.points.iter().any(|p| (40.5..49.5).contains(&p.t)));
        // Depth is each bucket's deepest: at most the bucket's end time.
        for p in &s.points {
            assert!(p.depth_mm <= p.t + s.bucket_s / 2.0 + 1e-9);
            assert!(p.depth_mm >= p.t - s.bucket_s / 2.0 - 1e-9);
        }
        assert!(s.points[0].depth_limit_mm.is_none());
        assert_eq!(s.points.last().unwrap().depth_limit_mm, Some(0.5));
    }
}
