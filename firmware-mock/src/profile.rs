//! Device profiles: one TOML file per pen model, giving what the pen declares
//! (`Identity`, `Capabilities`) and the physical parameters the mock
//! simulates (actuator speed, landing error, motor ramp, battery, heating).
//!
//! Three profiles ship with the crate ([`BUILTIN`]); users load their own
//! with [`Profile::load`]. A bad profile is refused with a [`ProfileError`]
//! that names the file, the line and column, and the field, and shows the
//! source line with a caret (`penlab-diagnostics`, from `toml`'s spans).

use std::fmt;
use std::path::Path;

use penlab_diagnostics::{SourceError, toml_entry_span, toml_keys_at};
use penlab_protocol::message::MAX_TEXT;
use penlab_protocol::message::{Capabilities, FEATURE_FORCE, FEATURE_LOCKOUT, Identity};
use penlab_protocol::timing::BUSY_LIMIT;
use penlab_protocol::{PROTOCOL_MAJOR, PROTOCOL_MINOR};
use serde::Deserialize;

/// The profiles shipped with the crate: `(name, TOML text)`.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "skinpen-like",
        include_str!("../profiles/skinpen-like.toml"),
    ),
    (
        "dermapen4-like",
        include_str!("../profiles/dermapen4-like.toml"),
    ),
    ("exceed-like", include_str!("../profiles/exceed-like.toml")),
    (
        "dermapen4-busy",
        include_str!("../profiles/dermapen4-busy.toml"),
    ),
];

/// A profile was refused.
#[derive(Debug, Clone)]
pub struct ProfileError {
    /// Where the profile came from: a path, or `builtin:NAME`.
    pub origin: String,
    /// Line and column (1-based) of the offending field, when known.
    pub location: Option<(usize, usize)>,
    /// The field, as `section.key` (empty when the problem is not a field's).
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// The mistake with its source line and caret, for a profile that was
    /// read.
    pub diagnostic: Option<Box<SourceError>>,
}

impl ProfileError {
    /// A mistake at the bytes `span` of the profile `text`.
    fn at(
        origin: &str,
        text: &str,
        span: std::ops::Range<usize>,
        field: String,
        message: String,
    ) -> Self {
        let shown = if field.is_empty() {
            message.clone()
        } else {
            format!("field `{field}`: {message}")
        };
        let diagnostic = SourceError::new(origin, text, span, shown);
        ProfileError {
            origin: origin.to_owned(),
            location: Some((diagnostic.location().line, diagnostic.location().column)),
            field,
            message,
            diagnostic: Some(Box::new(diagnostic)),
        }
    }
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(diagnostic) = &self.diagnostic {
            return write!(f, "{diagnostic}");
        }
        write!(f, "{}", self.origin)?;
        if self.field.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": field `{}`: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for ProfileError {}

/// `[identity]`: what the pen answers in `Identity`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitySection {
    /// Device model (at most 24 bytes).
    pub model: String,
    /// Firmware version (at most 24 bytes).
    pub firmware: String,
    /// Serial number (at most 24 bytes).
    pub serial: String,
}

/// `[depth]`: the settable depths, micrometres.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepthSection {
    /// Smallest settable depth.
    pub min_um: u16,
    /// Largest settable depth.
    pub max_um: u16,
    /// Step between settable depths (more than 0).
    pub step_um: u16,
    /// Largest depth the labelling declares safe.
    pub labelled_max_um: u16,
}

/// `[rate]`: the settable stroke rates, centihertz.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateSection {
    /// Lowest rate.
    pub min_chz: u16,
    /// Highest rate (equal to `min_chz` on a fixed-rate pen).
    pub max_chz: u16,
    /// Rate step; 0 on a fixed-rate pen.
    pub step_chz: u16,
}

/// `[cartridge]`: the cartridge type.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CartridgeSection {
    /// Needles on a cartridge.
    pub needle_count: u8,
    /// Whether the pen remembers used cartridges and refuses to run them.
    pub reuse_lockout: bool,
}

/// `[timing]`: declared protocol timings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimingSection {
    /// Watchdog timeout, at least 1 000 ms.
    pub watchdog_timeout_ms: u16,
    /// `Telemetry` period while running, 10 to 1 000 ms.
    pub telemetry_period_ms: u16,
    /// Optional, default 0: the pen's clock (`time_us`) at power-up. A value
    /// near 2³² (say 4 294 000 000, 967 ms before the wrap) makes the clock
    /// wrap early in a session, to test hosts' unwrapping (R-HOST-7).
    #[serde(default)]
    pub clock_start_us: u32,
}

/// `[actuator]`: the depth drive.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActuatorSection {
    /// Travel speed, µm/s (more than 0).
    pub speed_um_per_s: f64,
    /// Standard deviation of where the drive lands around a set point, µm.
    pub landing_error_um: f64,
    /// Standard deviation of the measured depth of single strokes, µm.
    pub strike_noise_um: f64,
    /// Optional, default `false`: the drive cannot take a new depth while it
    /// moves and answers `SetDepth` with `Nack(busy)` until it arrives
    /// (`PROTOCOL.md` §8.3). Needs a full travel of at most 1 s
    /// (`(max_um - min_um) / speed_um_per_s`), the longest a pen may be busy.
    #[serde(default)]
    pub busy_while_moving: bool,
}

/// `[motor]`: the stroke motor and its current model.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MotorSection {
    /// How fast the stroke rate ramps up or down, Hz/s (more than 0).
    pub ramp_hz_per_s: f64,
    /// Declared motor current limit, mA.
    pub max_current_ma: u16,
    /// Current drawn by the electronics alone, mA.
    pub idle_current_ma: u16,
    /// Current of the running motor with no load, mA.
    pub base_current_ma: u16,
    /// Extra current per hertz of stroke rate, mA/Hz.
    pub current_per_hz_ma: f64,
    /// Extra current per newton of contact force, mA/N.
    pub current_per_newton_ma: f64,
    /// Current of a stalled motor, mA.
    pub stall_current_ma: u16,
}

/// `[battery]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatterySection {
    /// Capacity, mAh (more than 0).
    pub capacity_mah: u32,
    /// Voltage when full, mV.
    pub full_mv: u16,
    /// Voltage when empty, mV (below `full_mv`).
    pub empty_mv: u16,
    /// Charge at power-up, percent.
    pub initial_pct: u8,
    /// At or below this charge the pen raises the `low_battery` warning.
    pub low_pct: u8,
}

/// `[thermal]`: a first-order model of the motor temperature.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThermalSection {
    /// Ambient temperature, 0.1 °C.
    pub ambient_dc: i16,
    /// Above this the pen raises `over_temperature`, 0.1 °C.
    pub limit_dc: i16,
    /// Steady-state rise above ambient per mA of current, 0.1 °C/mA.
    pub rise_dc_per_ma: f64,
    /// Thermal time constant, seconds (more than 0).
    pub time_constant_s: f64,
}

/// `[sensors]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorsSection {
    /// Whether the pen measures contact force (feature bit 1).
    pub force: bool,
}

/// A validated device profile.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Identity strings.
    pub identity: IdentitySection,
    /// Depth range.
    pub depth: DepthSection,
    /// Rate range.
    pub rate: RateSection,
    /// Cartridge type.
    pub cartridge: CartridgeSection,
    /// Declared timings.
    pub timing: TimingSection,
    /// Depth drive.
    pub actuator: ActuatorSection,
    /// Motor.
    pub motor: MotorSection,
    /// Battery.
    pub battery: BatterySection,
    /// Heating.
    pub thermal: ThermalSection,
    /// Sensors.
    pub sensors: SensorsSection,
}

impl Profile {
    /// A shipped profile by name (see [`BUILTIN`]).
    pub fn builtin(name: &str) -> Option<Profile> {
        let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
        // The shipped profiles are checked by the crate's tests.
        Profile::parse(text, &format!("builtin:{name}")).ok()
    }

    /// A shipped profile by name, or else a TOML file at that path.
    pub fn load(name_or_path: &str) -> Result<Profile, ProfileError> {
        if let Some(profile) = Profile::builtin(name_or_path) {
            return Ok(profile);
        }
        let path = Path::new(name_or_path);
        match std::fs::read_to_string(path) {
            Ok(text) => Profile::parse(&text, &path.display().to_string()),
            Err(e) => {
                let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
                Err(ProfileError {
                    origin: name_or_path.to_owned(),
                    location: None,
                    field: String::new(),
                    diagnostic: None,
                    message: format!(
                        "not a built-in profile ({}) and not a readable file: {e}",
                        names.join(", ")
                    ),
                })
            }
        }
    }

    /// Parses and validates a profile; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Profile, ProfileError> {
        let profile: Profile = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            // The field from `toml`'s spans: the keys around the error.
            let keys = toml_keys_at(text, span.start);
            let section = keys.first().cloned().unwrap_or_default();
            let mut field = keys.join(".");
            let message = e.message().trim().to_owned();
            if let Some(name) = backticked_after(&message, "missing field ")
                .or_else(|| backticked_after(&message, "unknown field "))
                && field != name
                && !field.ends_with(&format!(".{name}"))
            {
                field = join(&section, &name);
            }
            ProfileError::at(origin, text, span, field, message)
        })?;
        if let Err((field, message)) = profile.validate() {
            let keys: Vec<&str> = field.split('.').collect();
            let span = toml_entry_span(text, &keys).unwrap_or(0..0);
            return Err(ProfileError::at(
                origin,
                text,
                span,
                field.to_owned(),
                message,
            ));
        }
        Ok(profile)
    }

    /// Checks the values that TOML types alone cannot.
    fn validate(&self) -> Result<(), (&'static str, String)> {
        fn check(ok: bool, field: &'static str, msg: &str) -> Result<(), (&'static str, String)> {
            if ok {
                Ok(())
            } else {
                Err((field, msg.to_owned()))
            }
        }
        for (field, value) in [
            ("identity.model", &self.identity.model),
            ("identity.firmware", &self.identity.firmware),
            ("identity.serial", &self.identity.serial),
        ] {
            check(!value.is_empty(), field, "must not be empty")?;
            check(
                value.len() <= MAX_TEXT,
                field,
                &format!(
                    "is {} bytes long; the protocol allows {MAX_TEXT}",
                    value.len()
                ),
            )?;
        }
        let d = &self.depth;
        check(d.step_um > 0, "depth.step_um", "must be more than 0")?;
        check(
            d.max_um >= d.min_um,
            "depth.max_um",
            "must not be below depth.min_um",
        )?;
        check(
            (d.max_um - d.min_um).is_multiple_of(d.step_um),
            "depth.max_um",
            "must be depth.min_um plus a whole number of depth.step_um",
        )?;
        check(
            (d.min_um..=d.max_um).contains(&d.labelled_max_um),
            "depth.labelled_max_um",
            "must be within depth.min_um ..= depth.max_um",
        )?;
        let r = &self.rate;
        check(r.min_chz > 0, "rate.min_chz", "must be more than 0")?;
        check(
            r.max_chz >= r.min_chz,
            "rate.max_chz",
            "must not be below rate.min_chz",
        )?;
        if r.step_chz == 0 {
            check(
                r.max_chz == r.min_chz,
                "rate.step_chz",
                "is 0 (a fixed rate) but rate.max_chz differs from rate.min_chz",
            )?;
        } else {
            check(
                (r.max_chz - r.min_chz).is_multiple_of(r.step_chz),
                "rate.max_chz",
                "must be rate.min_chz plus a whole number of rate.step_chz",
            )?;
        }
        check(
            self.cartridge.needle_count > 0,
            "cartridge.needle_count",
            "must be more than 0",
        )?;
        let t = &self.timing;
        check(
            t.watchdog_timeout_ms >= 1_000,
            "timing.watchdog_timeout_ms",
            "must be at least 1000 (PROTOCOL.md §5.2, §8)",
        )?;
        check(
            (10..=1_000).contains(&t.telemetry_period_ms),
            "timing.telemetry_period_ms",
            "must be within 10 ..= 1000",
        )?;
        let positive = |v: f64| v.is_finite() && v > 0.0;
        let non_negative = |v: f64| v.is_finite() && v >= 0.0;
        let a = &self.actuator;
        check(
            positive(a.speed_um_per_s),
            "actuator.speed_um_per_s",
            "must be more than 0",
        )?;
        check(
            non_negative(a.landing_error_um),
            "actuator.landing_error_um",
            "must be 0 or more",
        )?;
        check(
            non_negative(a.strike_noise_um),
            "actuator.strike_noise_um",
            "must be 0 or more",
        )?;
        let travel_s = f64::from(self.depth.max_um - self.depth.min_um) / a.speed_um_per_s;
        check(
            !a.busy_while_moving || travel_s <= BUSY_LIMIT.as_secs_f64(),
            "actuator.busy_while_moving",
            &format!(
                "needs a full travel within {} ms (PROTOCOL.md §8.3); this drive takes {:.0} ms",
                BUSY_LIMIT.as_millis(),
                travel_s * 1e3
            ),
        )?;
        let m = &self.motor;
        check(
            positive(m.ramp_hz_per_s),
            "motor.ramp_hz_per_s",
            "must be more than 0",
        )?;
        check(
            m.max_current_ma > 0,
            "motor.max_current_ma",
            "must be more than 0",
        )?;
        check(
            non_negative(m.current_per_hz_ma),
            "motor.current_per_hz_ma",
            "must be 0 or more",
        )?;
        check(
            non_negative(m.current_per_newton_ma),
            "motor.current_per_newton_ma",
            "must be 0 or more",
        )?;
        let b = &self.battery;
        check(
            b.capacity_mah > 0,
            "battery.capacity_mah",
            "must be more than 0",
        )?;
        check(
            b.full_mv > b.empty_mv,
            "battery.full_mv",
            "must be above battery.empty_mv",
        )?;
        check(
            b.initial_pct <= 100,
            "battery.initial_pct",
            "must be at most 100",
        )?;
        check(b.low_pct < 100, "battery.low_pct", "must be below 100")?;
        let th = &self.thermal;
        check(
            th.limit_dc > th.ambient_dc,
            "thermal.limit_dc",
            "must be above thermal.ambient_dc",
        )?;
        check(
            non_negative(th.rise_dc_per_ma),
            "thermal.rise_dc_per_ma",
            "must be 0 or more",
        )?;
        check(
            positive(th.time_constant_s),
            "thermal.time_constant_s",
            "must be more than 0",
        )?;
        Ok(())
    }

    /// The `Capabilities` this profile declares.
    pub fn capabilities(&self) -> Capabilities {
        let mut features = 0;
        if self.sensors.force {
            features |= FEATURE_FORCE;
        }
        if self.cartridge.reuse_lockout {
            features |= FEATURE_LOCKOUT;
        }
        Capabilities {
            depth_min_um: self.depth.min_um,
            depth_max_um: self.depth.max_um,
            depth_step_um: self.depth.step_um,
            labelled_max_depth_um: self.depth.labelled_max_um,
            rate_min_chz: self.rate.min_chz,
            rate_max_chz: self.rate.max_chz,
            rate_step_chz: self.rate.step_chz,
            needle_count: self.cartridge.needle_count,
            max_current_ma: self.motor.max_current_ma,
            watchdog_timeout_ms: self.timing.watchdog_timeout_ms,
            telemetry_period_ms: self.timing.telemetry_period_ms,
            features,
        }
    }

    /// The `Identity` this profile declares.
    pub fn identity(&self) -> Identity {
        // Lengths are checked by `validate`.
        let text = |s: &str| heapless::String::try_from(s).unwrap_or_default();
        Identity {
            protocol_major: PROTOCOL_MAJOR,
            protocol_minor: PROTOCOL_MINOR,
            model: text(&self.identity.model),
            firmware: text(&self.identity.firmware),
            serial: text(&self.identity.serial),
        }
    }
}

fn join(section: &str, key: &str) -> String {
    if section.is_empty() {
        key.to_owned()
    } else {
        format!("{section}.{key}")
    }
}

/// The text between the backticks after `prefix` in `message`.
fn backticked_after(message: &str, prefix: &str) -> Option<String> {
    let rest = &message[message.find(prefix)? + prefix.len()..];
    let rest = rest.strip_prefix('`')?;
    Some(rest[..rest.find('`')?].to_owned())
}

#[cfg(test)]
mod tests;
