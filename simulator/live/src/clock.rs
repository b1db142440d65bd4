//! The pen's clock on the host's: at which host instant each strike
//! happened, so the view can look up where the tool was then.
//!
//! The pen stamps frames with its uptime in microseconds, a `u32` that wraps
//! every 71.6 minutes (`PROTOCOL.md` §5.2). [`DeviceClock`] unwraps it and
//! estimates the offset host − device from pairs of (device time, host
//! arrival). Transport delay only ever adds to an arrival, so the smallest
//! observed host − device difference is the best estimate of the fixed
//! offset: a minimum-latency filter. The minimum is taken over a sliding
//! window of device time, so a pen crystal that drifts against the host's is
//! followed; the estimate then lags by at most drift × window (1 ms for
//! 100 ppm and the default 10 s window).
//!
//! Host times are [`Instant`]s, or seconds since the clock's epoch (an
//! instant chosen at construction) where arithmetic is wanted.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use penlab_protocol::message::StrikeBatch;

/// The device counter's period, µs.
const WRAP_US: u64 = 1 << 32;
/// Default length of the minimum's window, in device time.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(10);
/// Default size of a jump that restarts the estimate (see
/// [`DeviceClock::with_jump`]).
pub const DEFAULT_JUMP: Duration = Duration::from_secs(2);
/// Bound on the samples kept, whatever the observation rate.
const MAX_SAMPLES: usize = 4_096;

/// Each strike of a batch as (device time µs, wrapping; depth µm), oldest
/// first.
pub fn strike_times(batch: &StrikeBatch) -> impl Iterator<Item = (u32, u16)> + '_ {
    batch.strikes.iter().map(move |s| {
        (
            batch
                .time_us
                .wrapping_add(u32::from(s.offset_10us).wrapping_mul(10)),
            s.depth_um,
        )
    })
}

/// The device time of a batch's last strike (its `time_us` when empty):
/// the nearest to when the batch was sent.
pub fn batch_end(batch: &StrikeBatch) -> u32 {
    strike_times(batch).last().map_or(batch.time_us, |(t, _)| t)
}

/// Maps the pen's wrapping microsecond clock onto the host's.
#[derive(Debug, Clone)]
pub struct DeviceClock {
    epoch: Instant,
    window_us: u64,
    jump_s: f64,
    state: Option<State>,
}

#[derive(Debug, Clone)]
struct State {
    /// The latest device time seen, raw and unwrapped.
    last_raw: u32,
    last_unwrapped: u64,
    /// Candidates for the window's minimum: (unwrapped device µs,
    /// host − device s), the differences increasing from front to back, so
    /// the front is the minimum.
    mins: VecDeque<(u64, f64)>,
}

impl State {
    fn new(device_us: u32, offset: f64) -> State {
        State {
            last_raw: device_us,
            last_unwrapped: u64::from(device_us),
            mins: VecDeque::from([(u64::from(device_us), offset)]),
        }
    }

    fn offset(&self) -> f64 {
        // Never empty: every state starts with one sample and the window
        // always keeps the newest.
        self.mins.front().map_or(0.0, |&(_, d)| d)
    }
}

impl Default for DeviceClock {
    fn default() -> Self {
        DeviceClock::new()
    }
}

impl DeviceClock {
    /// A clock with no observations, its epoch now.
    pub fn new() -> Self {
        DeviceClock::with_epoch(Instant::now())
    }

    /// A clock whose seconds ([`DeviceClock::host_secs`]) count from
    /// `epoch`.
    pub fn with_epoch(epoch: Instant) -> Self {
        DeviceClock {
            epoch,
            window_us: DEFAULT_WINDOW.as_micros() as u64,
            jump_s: DEFAULT_JUMP.as_secs_f64(),
            state: None,
        }
    }

    /// The window the minimum is taken over, in device time: longer filters
    /// jitter better, shorter follows drift more closely.
    pub fn with_window(mut self, window: Duration) -> Self {
        self.window_us = window.as_micros().min(u128::from(u64::MAX)) as u64;
        self
    }

    /// How far an observation may disagree with the estimate before the
    /// clock starts over: the pen restarted (its uptime went back) or
    /// another pen is on the line.
    pub fn with_jump(mut self, jump: Duration) -> Self {
        self.jump_s = jump.as_secs_f64();
        self
    }

    /// The instant host seconds count from.
    pub fn epoch(&self) -> Instant {
        self.epoch
    }

    /// Forgets every observation (a different pen).
    pub fn reset(&mut self) {
        self.state = None;
    }

    /// Whether there is an estimate yet.
    pub fn is_synced(&self) -> bool {
        self.state.is_some()
    }

    /// `at` as seconds since the epoch (negative before it).
    pub fn secs_of(&self, at: Instant) -> f64 {
        match at.checked_duration_since(self.epoch) {
            Some(d) => d.as_secs_f64(),
            None => -self.epoch.duration_since(at).as_secs_f64(),
        }
    }

    /// Seconds since the epoch as an instant.
    pub fn instant_of(&self, secs: f64) -> Instant {
        let magnitude = Duration::try_from_secs_f64(secs.abs()).unwrap_or(Duration::ZERO);
        let at = if secs >= 0.0 {
            self.epoch.checked_add(magnitude)
        } else {
            self.epoch.checked_sub(magnitude)
        };
        at.unwrap_or(self.epoch)
    }

    /// Records that a frame stamped `device_us` arrived at `arrived`.
    /// Feed it the frames stamped when they were sent: `Telemetry` and
    /// `Pose`, and for a strike batch [`batch_end`] (its `time_us` is the
    /// first strike's, up to a batch interval before the send).
    pub fn observe(&mut self, device_us: u32, arrived: Instant) {
        let host = self.secs_of(arrived);
        let Some(state) = &mut self.state else {
            self.state = Some(State::new(device_us, host - device_us as f64 * 1e-6));
            return;
        };
        let estimate = state.offset();
        // Unwrapped by where the host's clock says the pen must be, so a
        // silence of any length (longer than a wrap, too) is bridged.
        let unwrapped = unwrap_near(device_us, (host - estimate) * 1e6);
        let offset = host - unwrapped as f64 * 1e-6;
        if (offset - estimate).abs() > self.jump_s {
            tracing::info!(
                jump_s = offset - estimate,
                "the pen's clock jumped: starting over"
            );
            self.state = Some(State::new(device_us, host - device_us as f64 * 1e-6));
            return;
        }
        while state.mins.back().is_some_and(|&(_, d)| d >= offset) {
            state.mins.pop_back();
        }
        state.mins.push_back((unwrapped, offset));
        if unwrapped >= state.last_unwrapped {
            state.last_unwrapped = unwrapped;
            state.last_raw = device_us;
        }
        let newest = state.last_unwrapped;
        while state.mins.len() > 1
            && state
                .mins
                .front()
                .is_some_and(|&(t, _)| t.saturating_add(self.window_us) < newest)
        {
            state.mins.pop_front();
        }
        if state.mins.len() > MAX_SAMPLES {
            state.mins.pop_front();
        }
    }

    /// Observes a strike batch by its last strike (see [`batch_end`]).
    pub fn observe_batch(&mut self, batch: &StrikeBatch, arrived: Instant) {
        self.observe(batch_end(batch), arrived);
    }

    /// The estimated offset, seconds: host seconds since the epoch minus
    /// unwrapped device seconds.
    pub fn offset_secs(&self) -> Option<f64> {
        self.state.as_ref().map(State::offset)
    }

    /// `device_us` unwrapped, µs since the pen's power-up: the value
    /// nearest the latest observation (within ±35 minutes of it).
    pub fn unwrap(&self, device_us: u32) -> Option<u64> {
        let state = self.state.as_ref()?;
        let delta = i64::from(device_us.wrapping_sub(state.last_raw) as i32);
        Some(state.last_unwrapped.saturating_add_signed(delta))
    }

    /// When the pen's `device_us` was, as host seconds since the epoch.
    pub fn host_secs(&self, device_us: u32) -> Option<f64> {
        let state = self.state.as_ref()?;
        let delta = i64::from(device_us.wrapping_sub(state.last_raw) as i32);
        let device_s = (state.last_unwrapped as f64 + delta as f64) * 1e-6;
        Some(device_s + state.offset())
    }

    /// When the pen's `device_us` was, on the host's clock; `None` before
    /// the first observation.
    pub fn host_time(&self, device_us: u32) -> Option<Instant> {
        self.host_secs(device_us).map(|s| self.instant_of(s))
    }

    /// Each strike of `batch` as (host instant, depth µm), oldest first;
    /// empty before the first observation.
    pub fn strike_instants<'a>(
        &'a self,
        batch: &'a StrikeBatch,
    ) -> impl Iterator<Item = (Instant, u16)> + 'a {
        strike_times(batch).filter_map(move |(t, depth)| self.host_time(t).map(|at| (at, depth)))
    }
}

/// The unwrapped value congruent to `raw` modulo 2³² nearest `predicted_us`
/// (never negative).
fn unwrap_near(raw: u32, predicted_us: f64) -> u64 {
    // `as` saturates (and maps NaN to 0): a wild prediction stays in range.
    let predicted = predicted_us.max(0.0) as u64;
    let base = (predicted / WRAP_US) * WRAP_US + u64::from(raw);
    [
        base.checked_sub(WRAP_US),
        Some(base),
        base.checked_add(WRAP_US),
    ]
    .into_iter()
    .flatten()
    .min_by_key(|&c| c.abs_diff(predicted))
    .unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;
    use penlab_protocol::message::Strike;
    use proptest::prelude::*;

    /// A pen whose counter started `boot_us` before the epoch's device
    /// zero, with a clock running `1 + ppm·10⁻⁶` as fast as the host's.
    struct Pen {
        boot_us: f64,
        rate: f64,
    }

    impl Pen {
        /// The pen's raw counter at host second `t` (since the epoch).
        fn raw_at(&self, t: f64) -> u32 {
            (self.device_us_at(t) as u64 % WRAP_US) as u32
        }
        fn device_us_at(&self, t: f64) -> f64 {
            self.boot_us + t * 1e6 * self.rate
        }
    }

    /// A small deterministic generator, so plain tests need no seed crate.
    struct Lcg(u64);
    impl Lcg {
        fn uniform(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    fn at(clock: &DeviceClock, secs: f64) -> Instant {
        clock.instant_of(secs)
    }

    #[test]
    fn nothing_before_the_first_observation() {
        let clock = DeviceClock::new();
        assert!(!clock.is_synced());
        assert_eq!(clock.host_time(5), None);
        assert_eq!(clock.unwrap(5), None);
    }

    #[test]
    fn the_counter_unwraps_across_its_wrap() {
        let epoch = Instant::now();
        let mut clock = DeviceClock::with_epoch(epoch);
        // 10 s before the wrap, observed every 100 ms for 20 s.
        let pen = Pen {
            boot_us: (WRAP_US - 10_000_000) as f64,
            rate: 1.0,
        };
        let mut last = 0u64;
        for i in 0..200 {
            let t = f64::from(i) * 0.1 + 1.0;
            clock.observe(pen.raw_at(t), at(&clock, t + 0.002));
            let unwrapped = clock.unwrap(pen.raw_at(t)).unwrap();
            assert!(unwrapped > last, "not monotonic at {i}");
            assert!((unwrapped as f64 - pen.device_us_at(t)).abs() < 2.0);
            last = unwrapped;
        }
        assert!(last > WRAP_US, "never crossed the wrap");
        // A strike just before the wrap, asked for after it, maps before
        // now: the nearest unwrapping, not one a wrap later.
        let before = pen.raw_at(9.5);
        let host = clock.host_secs(before).unwrap();
        assert!((host - 9.502).abs() < 1e-3, "{host}");
    }

    #[test]
    fn a_silence_longer_than_a_wrap_is_bridged() {
        let mut clock = DeviceClock::with_epoch(Instant::now());
        let pen = Pen {
            boot_us: 1e6,
            rate: 1.0,
        };
        clock.observe(pen.raw_at(0.0), at(&clock, 0.001));
        // 100 minutes later: more than one wrap.
        let t = 6_000.0;
        clock.observe(pen.raw_at(t), at(&clock, t + 0.001));
        let unwrapped = clock.unwrap(pen.raw_at(t)).unwrap();
        assert!((unwrapped as f64 - pen.device_us_at(t)).abs() < 2.0);
        assert!((clock.host_secs(pen.raw_at(t)).unwrap() - (t + 0.001)).abs() < 1e-4);
    }

    #[test]
    fn a_pen_restart_starts_the_estimate_over() {
        let mut clock = DeviceClock::with_epoch(Instant::now());
        let pen = Pen {
            boot_us: 600e6,
            rate: 1.0,
        };
        for i in 0..10 {
            let t = f64::from(i) * 0.1;
            clock.observe(pen.raw_at(t), at(&clock, t + 0.003));
        }
        // Power-cycled at host second 2: uptime from 0 again.
        let rebooted = Pen {
            boot_us: -2e6,
            rate: 1.0,
        };
        for i in 0..10 {
            let t = 2.5 + f64::from(i) * 0.1;
            clock.observe(rebooted.raw_at(t), at(&clock, t + 0.003));
        }
        let t = 3.0;
        let host = clock.host_secs(rebooted.raw_at(t)).unwrap();
        assert!((host - (t + 0.003)).abs() < 1e-4, "{host}");
    }

    #[test]
    fn a_pen_drifting_100_ppm_is_followed() {
        for ppm in [100.0, -100.0] {
            let mut clock = DeviceClock::with_epoch(Instant::now());
            let pen = Pen {
                boot_us: 3_000e6,
                rate: 1.0 + ppm * 1e-6,
            };
            let mut rng = Lcg(7);
            let min_latency = 0.002;
            // Ten minutes of telemetry at 20 Hz: the offset moves 60 ms.
            for i in 0..12_000 {
                let t = f64::from(i) * 0.05;
                let latency = min_latency + 0.008 * rng.uniform();
                clock.observe(pen.raw_at(t), at(&clock, t + latency));
                if i > 200 && i % 97 == 0 {
                    let error = clock.host_secs(pen.raw_at(t)).unwrap() - t;
                    // Never later than the minimum latency; earlier by at
                    // most the window's drift (1 ms) and the jitter left.
                    assert!(
                        error <= min_latency + 0.001 && error >= min_latency - 0.0011,
                        "{ppm} ppm at {t} s: error {:.3} ms",
                        error * 1e3
                    );
                }
            }
        }
    }

    #[test]
    fn strike_times_wrap_with_the_counter() {
        let mut batch = StrikeBatch {
            first_strike: 0,
            time_us: u32::MAX - 1_000,
            strikes: Default::default(),
        };
        for (offset, depth) in [(0u16, 500u16), (300, 510), (u16::MAX, 490)] {
            batch
                .strikes
                .push(Strike {
                    offset_10us: offset,
                    depth_um: depth,
                })
                .unwrap();
        }
        let times: Vec<(u32, u16)> = strike_times(&batch).collect();
        assert_eq!(
            times,
            [
                (u32::MAX - 1_000, 500),
                (1_999, 510),
                (655_350 - 1_001, 490)
            ]
        );
        assert_eq!(batch_end(&batch), 655_350 - 1_001);
    }

    proptest! {
        /// With transport delay of at least `min_latency` and jitter on top,
        /// the estimate is the true offset plus the smallest latency seen in
        /// the window: never below the truth, never above it by more.
        #[test]
        fn jittered_latency_gives_the_offset_within_the_minimum_latency(
            boot_us in 0u64..WRAP_US,
            min_latency_ms in 0.0f64..50.0,
            jitter_ms in 0.0f64..100.0,
            seed in any::<u64>(),
        ) {
            let epoch = Instant::now();
            let mut clock = DeviceClock::with_epoch(epoch);
            let pen = Pen { boot_us: boot_us as f64, rate: 1.0 };
            let mut rng = Lcg(seed);
            let mut smallest = f64::INFINITY;
            // Five seconds at 20 Hz: all inside the window.
            for i in 0..100 {
                let t = 1.0 + f64::from(i) * 0.05;
                let latency = (min_latency_ms + jitter_ms * rng.uniform()) * 1e-3;
                smallest = smallest.min(latency);
                clock.observe(pen.raw_at(t), at(&clock, t + latency));
            }
            let t = 5.0;
            // Truncating the pen's counter to whole µs costs up to 1 µs.
            let error = clock.host_secs(pen.raw_at(t)).unwrap() - t;
            prop_assert!(error >= smallest - 2e-6, "{error} < {smallest}");
            prop_assert!(error <= smallest + 2e-6, "{error} > {smallest}");
            prop_assert!(error >= min_latency_ms * 1e-3 - 2e-6);
        }

        /// Strikes at increasing offsets map to increasing host instants,
        /// wherever the batch falls on the counter.
        #[test]
        fn strikes_at_offsets_map_to_increasing_host_times(
            time_us in any::<u32>(),
            gaps in proptest::collection::vec(1u16..2_000, 1..40),
            latency_ms in 0.0f64..30.0,
        ) {
            let mut clock = DeviceClock::with_epoch(Instant::now());
            let mut batch = StrikeBatch { first_strike: 0, time_us, strikes: Default::default() };
            let mut offset = 0u16;
            for (i, gap) in gaps.iter().enumerate() {
                if i > 0 {
                    offset = offset.saturating_add(*gap);
                }
                let _ = batch.strikes.push(Strike { offset_10us: offset, depth_um: 1_000 });
            }
            // The batch arrives after its last strike.
            let end = batch_end(&batch);
            let arrived = at(&clock, 100.0 + latency_ms * 1e-3);
            clock.observe_batch(&batch, arrived);
            let instants: Vec<Instant> = clock.strike_instants(&batch).map(|(t, _)| t).collect();
            prop_assert_eq!(instants.len(), batch.strikes.len());
            for (pair, s) in instants.windows(2).zip(batch.strikes.windows(2)) {
                if s[1].offset_10us > s[0].offset_10us {
                    prop_assert!(pair[1] > pair[0]);
                } else {
                    prop_assert!(pair[1] >= pair[0]);
                }
            }
            let end_at = clock.secs_of(clock.host_time(end).unwrap());
            prop_assert!((end_at - clock.secs_of(arrived)).abs() < 1e-6);
            let slack = Duration::from_micros(1);
            prop_assert!(instants.iter().all(|&t| t <= arrived + slack));
        }
    }
}
