//! The study's grid: which depths at which rates, from what the pen
//! declares (its [`PenLimits`]) and the subsets asked for.

use penlab_host::limits::PenLimits;
use serde::{Deserialize, Serialize};

/// One point of the grid: a depth setting at a rate setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetPoint {
    /// Set depth, µm.
    pub depth_um: u16,
    /// Set rate, cHz.
    pub rate_chz: u16,
}

impl SetPoint {
    /// The set rate in Hz.
    pub fn rate_hz(&self) -> f64 {
        f64::from(self.rate_chz) / 100.0
    }
}

/// Rates a study runs when none are named: the lowest, the middle and the
/// highest declared settings (fewer for a pen with fewer settings).
pub const DEFAULT_RATE_POINTS: u32 = 3;

/// Every declared depth (or those of `depths`, µm) at several rates (those
/// of `rates_hz`, or [`DEFAULT_RATE_POINTS`] spread across the range),
/// depth by depth. A value that is not a declared setting is refused with
/// the settings named: a study reports what the pen was set to, never a
/// rounded value.
pub fn grid(
    limits: &PenLimits,
    depths: Option<&[u16]>,
    rates_hz: Option<&[f64]>,
) -> Result<Vec<SetPoint>, String> {
    let depths: Vec<u16> = match depths {
        None => (0..limits.depth_settings())
            .map(|k| limits.depth_setting(k))
            .collect(),
        Some(list) => list
            .iter()
            .map(|&d| {
                if limits.nearest_depth(f64::from(d)) == d {
                    Ok(d)
                } else {
                    Err(format!(
                        "depth {d} µm is not a setting of this pen ({}..={} µm in steps of {} µm)",
                        limits.depth_min_um, limits.depth_max_um, limits.depth_step_um
                    ))
                }
            })
            .collect::<Result<_, _>>()?,
    };
    let rates: Vec<u16> = match rates_hz {
        None => spread(limits.rate_settings(), DEFAULT_RATE_POINTS)
            .into_iter()
            .map(|k| limits.rate_setting(k))
            .collect(),
        Some(list) => list
            .iter()
            .map(|&hz| {
                let chz = hz * 100.0;
                let nearest = limits.nearest_rate(chz);
                if f64::from(nearest) == chz {
                    Ok(nearest)
                } else {
                    let hz_of = |chz: u16| f64::from(chz) / 100.0;
                    let settings = if limits.rate_step_chz == 0 {
                        format!("its rate is fixed at {} Hz", hz_of(limits.rate_min_chz))
                    } else {
                        format!(
                            "{}..={} Hz in steps of {} Hz",
                            hz_of(limits.rate_min_chz),
                            hz_of(limits.rate_max_chz),
                            hz_of(limits.rate_step_chz)
                        )
                    };
                    Err(format!(
                        "rate {hz} Hz is not a setting of this pen ({settings})"
                    ))
                }
            })
            .collect::<Result<_, _>>()?,
    };
    if depths.is_empty() || rates.is_empty() {
        return Err("the grid is empty: name at least one depth and one rate".into());
    }
    Ok(depths
        .iter()
        .flat_map(|&depth_um| {
            rates
                .iter()
                .map(move |&rate_chz| SetPoint { depth_um, rate_chz })
        })
        .collect())
}

/// `points` indices spread evenly over `0..count`, ends included, without
/// repeats.
fn spread(count: u32, points: u32) -> Vec<u32> {
    if count <= points {
        return (0..count).collect();
    }
    let mut picked: Vec<u32> = (0..points)
        .map(|i| {
            let k = f64::from(i) * f64::from(count - 1) / f64::from(points - 1);
            k.round() as u32
        })
        .collect();
    picked.dedup();
    picked
}

#[cfg(test)]
mod tests {
    use super::*;
    use penlab_protocol::message::{Capabilities, Message};
    use penlab_protocol::samples;

    /// The sample pen (0..=2500 µm by 250, fixed 117 Hz), with a rate range
    /// of 60..=120 Hz by 1 Hz.
    fn limits(adjustable_rate: bool) -> PenLimits {
        let mut c: Capabilities = samples::every_message()
            .into_iter()
            .find_map(|m| match m {
                Message::Capabilities(c) => Some(c),
                _ => None,
            })
            .expect("the samples include Capabilities");
        if adjustable_rate {
            c.rate_min_chz = 6_000;
            c.rate_max_chz = 12_000;
            c.rate_step_chz = 100;
        }
        PenLimits::validate(c).unwrap()
    }

    #[test]
    fn every_declared_depth_at_three_rates_by_default() {
        let points = grid(&limits(true), None, None).unwrap();
        assert_eq!(points.len(), 11 * 3);
        assert_eq!(
            points[0],
            SetPoint {
                depth_um: 0,
                rate_chz: 6_000
            }
        );
        assert_eq!(points[1].rate_chz, 9_000);
        assert_eq!(points[2].rate_chz, 12_000);
        assert_eq!(
            points[32],
            SetPoint {
                depth_um: 2_500,
                rate_chz: 12_000
            }
        );
    }

    #[test]
    fn a_fixed_rate_pen_has_one_rate() {
        let e = grid(&limits(false), None, Some(&[90.0])).unwrap_err();
        assert!(e.ends_with("(its rate is fixed at 117 Hz)"), "{e}");
        let points = grid(&limits(false), Some(&[500, 1_000]), None).unwrap();
        assert_eq!(
            points,
            [
                SetPoint {
                    depth_um: 500,
                    rate_chz: 11_700
                },
                SetPoint {
                    depth_um: 1_000,
                    rate_chz: 11_700
                }
            ]
        );
    }

    #[test]
    fn subsets_must_be_declared_settings() {
        let l = limits(true);
        let points = grid(&l, Some(&[250]), Some(&[60.0, 75.5, 120.0])).unwrap_err();
        assert!(points.contains("rate 75.5 Hz is not a setting"), "{points}");
        let e = grid(&l, Some(&[300]), None).unwrap_err();
        assert!(
            e.contains(
                "depth 300 µm is not a setting of this pen (0..=2500 µm in steps of 250 µm)"
            ),
            "{e}"
        );
        assert!(grid(&l, Some(&[]), None).unwrap_err().contains("empty"));
        assert_eq!(grid(&l, Some(&[250]), Some(&[75.0])).unwrap().len(), 1);
    }

    #[test]
    fn spread_keeps_both_ends() {
        assert_eq!(spread(61, 3), [0, 30, 60]);
        assert_eq!(spread(2, 3), [0, 1]);
        assert_eq!(spread(1, 3), [0]);
        assert_eq!(spread(4, 3), [0, 2, 3]);
    }
}
