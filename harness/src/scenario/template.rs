//! `${…}` templates: values a scenario leaves to the pen, filled in from
//! its declared capabilities when a test runs, and checked with stand-in
//! values when the file loads.

use std::collections::BTreeMap;

use penlab_host::limits::PenLimits;

use super::model::{Feature, Sweep};

/// The values a test's `${…}` templates draw on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vars(BTreeMap<String, f64>);

/// Names every test can use; sweeps add `depth`, or `rate` and `rate_hz`.
pub const VARIABLES: &[&str] = &[
    "depth_min",
    "depth_max",
    "depth_step",
    "depth_mid",
    "depth_labelled_max",
    "rate_min",
    "rate_max",
    "rate_step",
    "rate_mid",
    "rate_min_hz",
    "rate_max_hz",
    "rate_mid_hz",
    "needles",
    "watchdog_ms",
    "telemetry_ms",
    "telemetry_tolerance_ms",
    "telemetry_window_ms",
    "depth_off_step",
    "rate_off_step",
];

impl Vars {
    /// The variables of a pen with these (checked) limits.
    pub fn from_limits(c: &PenLimits) -> Vars {
        let mut v = BTreeMap::new();
        let mut put = |k: &str, x: f64| {
            v.insert(k.to_owned(), x);
        };
        put("depth_min", f64::from(c.depth_min_um));
        put("depth_max", f64::from(c.depth_max_um));
        put("depth_step", f64::from(c.depth_step_um));
        put(
            "depth_mid",
            f64::from(c.depth_setting((c.depth_settings() - 1) / 2)),
        );
        put("depth_labelled_max", f64::from(c.labelled_max_depth_um));
        put("rate_min", f64::from(c.rate_min_chz));
        put("rate_max", f64::from(c.rate_max_chz));
        put("rate_step", f64::from(c.rate_step_chz));
        let rate_mid = f64::from(c.rate_setting((c.rate_settings() - 1) / 2));
        put("rate_mid", rate_mid);
        put("rate_min_hz", f64::from(c.rate_min_chz) / 100.0);
        put("rate_max_hz", f64::from(c.rate_max_chz) / 100.0);
        put("rate_mid_hz", rate_mid / 100.0);
        put("needles", f64::from(c.needle_count));
        put("watchdog_ms", f64::from(c.watchdog_timeout_ms));
        put("telemetry_ms", f64::from(c.telemetry_period_ms));
        let period = std::time::Duration::from_millis(u64::from(c.telemetry_period_ms));
        put(
            "telemetry_tolerance_ms",
            penlab_protocol::timing::telemetry_interval_tolerance(period).as_secs_f64() * 1e3,
        );
        // Enough for a mean of 20 intervals even from a pen 20 % slow.
        let intervals = penlab_protocol::timing::TELEMETRY_MEAN_WINDOW as f64 * 1.5;
        put(
            "telemetry_window_ms",
            f64::from(c.telemetry_period_ms) * intervals,
        );
        // A value in range but off the grid (R-CMD-2, R-CMD-3): half a step
        // above the middle one; on a fixed-rate pen one cHz above its rate.
        put(
            "depth_off_step",
            f64::from(c.depth_setting((c.depth_settings() - 1) / 2))
                + f64::from((c.depth_step_um / 2).max(1)),
        );
        put(
            "rate_off_step",
            rate_mid + f64::from((c.rate_step_chz / 2).max(1)),
        );
        put("features", f64::from(c.features));
        Vars(v)
    }

    /// Stand-in values for every name a test with `sweep` may use: what a
    /// file is checked against when it loads.
    pub fn stand_in(sweep: Option<Sweep>) -> Vars {
        let mut vars = Vars::default();
        for name in VARIABLES {
            vars.set(name, 1.0);
        }
        vars.set_sweep_point(sweep.map(|s| (s, 1.0)));
        vars
    }

    /// Whether the pen declared `feature`.
    pub fn declares(&self, feature: Feature) -> bool {
        let bits = self.0.get("features").copied().unwrap_or(0.0) as u8;
        bits & feature.bit() != 0
    }

    /// A variable's value, if it has one.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.get(name).copied()
    }

    /// Sets a variable.
    pub fn set(&mut self, name: &str, value: f64) {
        self.0.insert(name.to_owned(), value);
    }

    /// Sets the sweep's names for one point: `depth`, or `rate` (cHz) and
    /// `rate_hz`.
    pub fn set_sweep_point(&mut self, point: Option<(Sweep, f64)>) {
        match point {
            Some((Sweep::Depth, p)) => self.set("depth", p),
            Some((Sweep::Rate, p)) => {
                self.set("rate", p);
                self.set("rate_hz", p / 100.0);
            }
            None => {}
        }
    }

    /// The points a sweep runs at: the smallest, middle and largest
    /// settable value (fewer when they coincide).
    pub fn sweep_points(&self, sweep: Sweep) -> Vec<f64> {
        let key = match sweep {
            Sweep::Depth => "depth",
            Sweep::Rate => "rate",
        };
        let get = |k: &str| self.0.get(&format!("{key}_{k}")).copied().unwrap_or(0.0);
        let mut points = vec![get("min"), get("mid"), get("max")];
        points.dedup();
        points
    }

    /// Replaces every `"${…}"` string in `value` with its number.
    pub fn fill(&self, value: &toml::Value) -> Result<toml::Value, String> {
        Ok(match value {
            toml::Value::String(s) => {
                match s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                    Some(expr) => number(self.eval(expr)?),
                    None => value.clone(),
                }
            }
            toml::Value::Array(items) => toml::Value::Array(
                items
                    .iter()
                    .map(|v| self.fill(v))
                    .collect::<Result<_, _>>()?,
            ),
            toml::Value::Table(t) => toml::Value::Table(
                t.iter()
                    .map(|(k, v)| Ok((k.clone(), self.fill(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        })
    }

    /// Evaluates `a + b - 3`: names and numbers joined by `+` and `-`.
    fn eval(&self, expr: &str) -> Result<f64, String> {
        let mut total = 0.0;
        let mut sign = 1.0;
        let mut rest = expr.trim();
        loop {
            let end = rest.find(['+', '-']).unwrap_or(rest.len());
            let term = rest[..end].trim();
            let value = match term.parse::<f64>() {
                Ok(x) => x,
                Err(_) => *self.0.get(term).ok_or_else(|| {
                    format!(
                        "unknown name `{term}` in \"${{{expr}}}\"; known: {}",
                        self.names()
                    )
                })?,
            };
            total += sign * value;
            if end == rest.len() {
                return Ok(total);
            }
            sign = if rest[end..].starts_with('+') {
                1.0
            } else {
                -1.0
            };
            rest = rest[end + 1..].trim();
        }
    }

    fn names(&self) -> String {
        self.0
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn number(x: f64) -> toml::Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        toml::Value::Integer(x as i64)
    } else {
        toml::Value::Float(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use penlab_protocol::message::Message;

    #[test]
    fn templates_fill_from_capabilities() {
        let caps = penlab_protocol::samples::every_message()[11].clone();
        let Message::Capabilities(caps) = caps else {
            unreachable!()
        };
        let limits = PenLimits::validate(caps).unwrap();
        let mut vars = Vars::from_limits(&limits);
        assert_eq!(vars.sweep_points(Sweep::Depth), [0.0, 1_250.0, 2_500.0]);
        assert_eq!(
            vars.sweep_points(Sweep::Rate),
            [11_700.0],
            "a fixed rate is one point"
        );
        vars.set("depth", 1_250.0);
        let filled = vars
            .fill(&toml::Value::String("${depth_max + depth_step - 5}".into()))
            .unwrap();
        assert_eq!(filled, toml::Value::Integer(2_745));
        assert_eq!(
            vars.fill(&toml::Value::String("${rate_mid_hz}".into()))
                .unwrap(),
            toml::Value::Integer(117)
        );
        let message: Message = vars
            .fill(&toml::Value::Table(
                toml::toml! { set_depth = { depth_um = "${depth}" } },
            ))
            .unwrap()
            .try_into()
            .unwrap();
        assert_eq!(
            message,
            Message::SetDepth(penlab_protocol::message::SetDepth { depth_um: 1_250 })
        );
    }

    #[test]
    fn stand_ins_know_the_sweep_s_names() {
        let rate = Vars::stand_in(Some(Sweep::Rate));
        assert!(rate.fill(&toml::Value::String("${rate_hz}".into())).is_ok());
        let e = Vars::stand_in(None)
            .fill(&toml::Value::String("${depth}".into()))
            .unwrap_err();
        assert!(e.contains("unknown name `depth`"), "{e}");
    }
}
