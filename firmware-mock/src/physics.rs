//! The physical parts of the pen: depth actuator, stroke motor, battery and
//! motor temperature, and the seeded random source they draw from. Plain
//! numbers and explicit time steps: no clocks, no I/O.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::profile::Profile;

/// A seeded, reproducible random source.
#[derive(Debug, Clone)]
pub struct Noise(ChaCha8Rng);

impl Noise {
    /// A source seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Noise(ChaCha8Rng::seed_from_u64(seed))
    }

    /// A uniform sample in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        self.0.random::<f64>()
    }

    /// A normal sample with mean 0 and standard deviation `sigma`
    /// (Box–Muller).
    pub fn normal(&mut self, sigma: f64) -> f64 {
        if sigma == 0.0 {
            return 0.0;
        }
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        sigma * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// The depth drive: moves at a finite speed towards where it will land,
/// which is the set point plus a seeded landing error.
#[derive(Debug, Clone)]
pub struct Actuator {
    speed_um_per_s: f64,
    landing_error_um: f64,
    /// Where the needle tip's depth stop is now, µm.
    pub position_um: f64,
    /// Where it is going (set point plus landing error), µm.
    pub landing_um: f64,
    /// Jammed: it does not move.
    pub jammed: bool,
}

impl Actuator {
    /// An actuator resting at `position_um`.
    pub fn new(profile: &Profile, position_um: f64) -> Self {
        Actuator {
            speed_um_per_s: profile.actuator.speed_um_per_s,
            landing_error_um: profile.actuator.landing_error_um,
            position_um,
            landing_um: position_um,
            jammed: false,
        }
    }

    /// Sends the drive to `target_um`; where it lands is drawn now.
    pub fn set_target(&mut self, target_um: f64, noise: &mut Noise) {
        self.landing_um = (target_um + noise.normal(self.landing_error_um)).max(0.0);
    }

    /// Whether the drive is still travelling.
    pub fn moving(&self) -> bool {
        (self.position_um - self.landing_um).abs() > f64::EPSILON
    }

    /// Advances by `dt_s` seconds.
    pub fn step(&mut self, dt_s: f64) {
        if self.jammed {
            return;
        }
        let max = self.speed_um_per_s * dt_s;
        let delta = self.landing_um - self.position_um;
        if delta.abs() <= max {
            self.position_um = self.landing_um;
        } else {
            self.position_um += max.copysign(delta);
        }
    }
}

/// The stroke motor: its rate ramps towards the target at a fixed slope,
/// and its phase counts strokes.
#[derive(Debug, Clone)]
pub struct Motor {
    ramp_hz_per_s: f64,
    /// Present stroke rate, Hz.
    pub rate_hz: f64,
    /// Rate it is ramping to, Hz (0 when not driven).
    pub target_hz: f64,
    /// Fractional strokes since the last whole one.
    pub phase: f64,
    /// Stalled: it does not turn although driven.
    pub stalled: bool,
}

impl Motor {
    /// A motor at rest.
    pub fn new(profile: &Profile) -> Self {
        Motor {
            ramp_hz_per_s: profile.motor.ramp_hz_per_s,
            rate_hz: 0.0,
            target_hz: 0.0,
            phase: 0.0,
            stalled: false,
        }
    }

    /// Stops at once (drive cut, needles retracted).
    pub fn halt(&mut self) {
        self.rate_hz = 0.0;
        self.target_hz = 0.0;
        self.phase = 0.0;
    }

    /// Advances by `dt_s` seconds and returns the fractions of the step at
    /// which whole strokes happened (each in `(0, 1]`).
    pub fn step(&mut self, dt_s: f64) -> Vec<f64> {
        let target = if self.stalled { 0.0 } else { self.target_hz };
        if self.stalled {
            self.rate_hz = 0.0;
        }
        let r0 = self.rate_hz;
        let max = self.ramp_hz_per_s * dt_s;
        let delta = target - r0;
        let r1 = if delta.abs() <= max {
            target
        } else {
            r0 + max.copysign(delta)
        };
        self.rate_hz = r1;
        // Phase grows with the mean rate over the step.
        let advance = (r0 + r1) / 2.0 * dt_s;
        let start = self.phase;
        let end = start + advance;
        let mut strokes = Vec::new();
        if advance > 0.0 {
            let mut k = start.floor() + 1.0;
            while k <= end {
                strokes.push((k - start) / advance);
                k += 1.0;
            }
        }
        self.phase = end - end.floor();
        strokes
    }
}

/// The battery: drains with the current drawn.
#[derive(Debug, Clone)]
pub struct Battery {
    capacity_mah: f64,
    full_mv: f64,
    empty_mv: f64,
    /// Charge left, mAh.
    pub charge_mah: f64,
}

impl Battery {
    /// A battery at the profile's initial charge.
    pub fn new(profile: &Profile) -> Self {
        let capacity = f64::from(profile.battery.capacity_mah);
        Battery {
            capacity_mah: capacity,
            full_mv: f64::from(profile.battery.full_mv),
            empty_mv: f64::from(profile.battery.empty_mv),
            charge_mah: capacity * f64::from(profile.battery.initial_pct) / 100.0,
        }
    }

    /// Draws `current_ma` for `dt_s` seconds.
    pub fn drain(&mut self, current_ma: f64, dt_s: f64) {
        self.charge_mah = (self.charge_mah - current_ma * dt_s / 3_600.0).max(0.0);
    }

    /// Sets the charge, percent.
    pub fn set_pct(&mut self, pct: f64) {
        self.charge_mah = self.capacity_mah * pct.clamp(0.0, 100.0) / 100.0;
    }

    /// Charge, percent (0 to 100).
    pub fn pct(&self) -> f64 {
        100.0 * self.charge_mah / self.capacity_mah
    }

    /// Terminal voltage, mV: linear between empty and full.
    pub fn mv(&self) -> f64 {
        self.empty_mv + (self.full_mv - self.empty_mv) * self.pct() / 100.0
    }
}

/// Motor temperature: first order towards ambient plus a rise proportional
/// to the current.
#[derive(Debug, Clone)]
pub struct Thermal {
    ambient_dc: f64,
    rise_dc_per_ma: f64,
    time_constant_s: f64,
    /// Temperature, 0.1 °C.
    pub temperature_dc: f64,
}

impl Thermal {
    /// At ambient temperature.
    pub fn new(profile: &Profile) -> Self {
        let ambient = f64::from(profile.thermal.ambient_dc);
        Thermal {
            ambient_dc: ambient,
            rise_dc_per_ma: profile.thermal.rise_dc_per_ma,
            time_constant_s: profile.thermal.time_constant_s,
            temperature_dc: ambient,
        }
    }

    /// Advances by `dt_s` seconds with `current_ma` flowing.
    pub fn step(&mut self, current_ma: f64, dt_s: f64) {
        let steady = self.ambient_dc + self.rise_dc_per_ma * current_ma;
        let k = 1.0 - (-dt_s / self.time_constant_s).exp();
        self.temperature_dc += (steady - self.temperature_dc) * k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        Profile::builtin("skinpen-like").unwrap()
    }

    #[test]
    fn noise_is_seeded() {
        let a: Vec<f64> = (0..5)
            .map({
                let mut n = Noise::new(7);
                move |_| n.normal(1.0)
            })
            .collect();
        let b: Vec<f64> = (0..5)
            .map({
                let mut n = Noise::new(7);
                move |_| n.normal(1.0)
            })
            .collect();
        let c: Vec<f64> = (0..5)
            .map({
                let mut n = Noise::new(8);
                move |_| n.normal(1.0)
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn normal_has_the_requested_spread() {
        let mut n = Noise::new(1);
        let xs: Vec<f64> = (0..20_000).map(|_| n.normal(10.0)).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.5, "mean {mean}");
        assert!((var.sqrt() - 10.0).abs() < 0.5, "sd {}", var.sqrt());
    }

    #[test]
    fn actuator_travels_at_its_speed_and_jams() {
        let p = profile();
        let mut a = Actuator::new(&p, 0.0);
        a.landing_um = 1_000.0;
        a.step(0.1); // 5 mm/s * 0.1 s = 500 µm
        assert!((a.position_um - 500.0).abs() < 1e-9);
        assert!(a.moving());
        a.step(0.2);
        assert_eq!(a.position_um, 1_000.0);
        assert!(!a.moving());
        a.landing_um = 0.0;
        a.jammed = true;
        a.step(1.0);
        assert_eq!(a.position_um, 1_000.0);
    }

    #[test]
    fn motor_ramps_and_counts_strokes() {
        let p = profile();
        let mut m = Motor::new(&p);
        m.target_hz = 117.0;
        let mut strokes = 0;
        let mut t = 0.0;
        while t < 2.0 {
            strokes += m.step(0.01).len();
            t += 0.01;
        }
        // Ramp 600 Hz/s: 117 Hz after 0.195 s, ~11.4 strokes lost to the ramp.
        assert_eq!(m.rate_hz, 117.0);
        assert!((222..=223).contains(&strokes), "{strokes}");
        m.target_hz = 0.0;
        m.step(0.1);
        assert!(m.rate_hz < 117.0 && m.rate_hz > 0.0);
        m.stalled = true;
        assert!(m.step(0.1).is_empty());
    }

    #[test]
    fn battery_drains_and_heat_rises() {
        let p = profile();
        let mut b = Battery::new(&p);
        assert_eq!(b.pct(), 100.0);
        b.drain(700.0, 360.0); // 70 mAh of 700
        assert!((b.pct() - 90.0).abs() < 1e-9);
        assert!(b.mv() < 4_200.0 && b.mv() > 3_300.0);
        let mut th = Thermal::new(&p);
        th.step(500.0, 1_000.0);
        assert!(
            (th.temperature_dc - 270.0).abs() < 1.0,
            "{}",
            th.temperature_dc
        );
    }
}
