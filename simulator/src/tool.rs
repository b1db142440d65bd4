//! Tools and their needle layouts, built from data-driven profiles.

use std::path::Path;

use glam::Vec2;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The shipped tool profiles (`data/tools.toml`).
pub const TOOLS_TOML: &str = include_str!("../data/tools.toml");

/// What kind of tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolKind {
    /// Motorised pen: the whole cartridge strikes at the pen's rate.
    Pen,
    /// Stamp: the whole array strikes once per press.
    Stamp,
    /// Roller: one row of needles meets the skin per row pitch rolled.
    Roller,
}

/// Needles evenly spaced on a circle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ring {
    /// Needles on the ring.
    pub count: u32,
    /// Radius, mm.
    pub radius_mm: f32,
    /// Angle of the first needle from +x, degrees.
    #[serde(default)]
    pub phase_deg: f32,
}

/// A centred rectangular needle grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grid {
    /// Columns (along x).
    pub cols: u32,
    /// Rows (along y).
    pub rows: u32,
    /// Spacing, mm.
    pub pitch_mm: f32,
}

/// Drum geometry of a roller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollerSpec {
    /// Needle discs across the drum (needles per row).
    pub discs: u32,
    /// Needles around each disc (rows per revolution).
    pub needles_per_disc: u32,
    /// Drum width, mm.
    pub width_mm: f32,
    /// Drum diameter, mm.
    pub diameter_mm: f32,
}

/// A tool profile as written in a data file or script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolProfile {
    /// Unique name, e.g. `pen-14`.
    pub name: String,
    /// Kind of tool.
    pub kind: ToolKind,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Default strike rate for pens, Hz.
    #[serde(default)]
    pub rate_hz: Option<f32>,
    /// Deepest setting of a pen, mm.
    #[serde(default)]
    pub max_depth_mm: Option<f32>,
    /// Fixed needle length of stamps and rollers, mm (replaces the set depth).
    #[serde(default)]
    pub needle_length_mm: Option<f32>,
    /// Contact force at which the needles reach their full length, N.
    #[serde(default = "default_full_force")]
    pub full_contact_force_n: f32,
    /// One needle at the centre.
    #[serde(default)]
    pub center: bool,
    /// Rings of needles.
    #[serde(default)]
    pub rings: Vec<Ring>,
    /// A grid of needles.
    #[serde(default)]
    pub grid: Option<Grid>,
    /// Explicit needle positions, mm.
    #[serde(default)]
    pub points_mm: Vec<[f32; 2]>,
    /// Roller drum (rollers only).
    #[serde(default)]
    pub roller: Option<RollerSpec>,
}

fn default_full_force() -> f32 {
    2.0
}

/// A file of tool profiles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolProfiles {
    /// The profiles.
    #[serde(default, rename = "tool_profile")]
    pub profiles: Vec<ToolProfile>,
}

impl ToolProfiles {
    /// The shipped profiles.
    pub fn shipped() -> Result<Self> {
        Self::parse("data/tools.toml", TOOLS_TOML)
    }

    /// Parses and checks a profiles file; errors carry `file:line:column`,
    /// the line and a caret.
    pub fn parse(path: impl AsRef<Path>, text: &str) -> Result<Self> {
        let profiles: Self =
            toml::from_str(text).map_err(|e| Error::toml(path.as_ref(), text, &e))?;
        check_profiles(path.as_ref(), text, "tool_profile", &profiles.profiles)?;
        Ok(profiles)
    }

    /// Builds the named tool; later profiles of the same name win.
    pub fn tool(&self, name: &str) -> Result<Tool> {
        let profile = self
            .profiles
            .iter()
            .rev()
            .find(|p| p.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = self.profiles.iter().map(|p| p.name.as_str()).collect();
                Error::Invalid(format!(
                    "unknown tool {name:?}; known tools: {}",
                    names.join(", ")
                ))
            })?;
        Tool::from_profile(profile)
    }
}

/// A tool ready for contact: the needle sets that strike together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// The profile it was built from.
    pub profile: ToolProfile,
    /// Needle positions (x, y) in the tool frame, mm, per strike pattern.
    /// Pens and stamps have one pattern; rollers alternate between the
    /// patterns of successive rows (each row staggered by half a disc gap).
    pub patterns: Vec<Vec<Vec2>>,
    /// Rollers: distance rolled between rows meeting the skin, mm.
    pub row_pitch_mm: Option<f32>,
    /// Width of the track one stroke leaves, mm (across the direction of travel).
    pub footprint_mm: f32,
}

impl Tool {
    /// Builds the needle layout of a profile, checking it.
    pub fn from_profile(profile: &ToolProfile) -> Result<Self> {
        Self::build(profile).map_err(|(_, m)| Error::Invalid(format!("tool {}: {m}", profile.name)))
    }

    /// [`Tool::from_profile`], a mistake named by its key in the profile
    /// (dotted; empty for the profile as a whole).
    fn build(profile: &ToolProfile) -> std::result::Result<Self, (&'static str, &'static str)> {
        let bad = |key: &'static str, m: &'static str| Err((key, m));
        let positive = |v: f32| v.is_finite() && v > 0.0;
        if !positive(profile.full_contact_force_n) {
            return bad(
                "full_contact_force_n",
                "full_contact_force_n must be positive",
            );
        }
        if let Some(l) = profile.needle_length_mm
            && !(l.is_finite() && (0.0..=5.0).contains(&l))
        {
            return bad(
                "needle_length_mm",
                "needle_length_mm must be within 0 to 5 mm",
            );
        }
        let (patterns, row_pitch_mm) = match profile.kind {
            ToolKind::Roller => {
                let Some(r) = &profile.roller else {
                    return bad(
                        "kind",
                        "a roller needs roller = { discs, needles_per_disc, width_mm, diameter_mm }",
                    );
                };
                if !(1..=1000).contains(&r.discs)
                    || !(1..=10_000).contains(&r.needles_per_disc)
                    || !positive(r.width_mm)
                    || !positive(r.diameter_mm)
                {
                    return bad("roller", "roller dimensions must be positive");
                }
                if profile.needle_length_mm.is_none() {
                    return bad("kind", "a roller needs needle_length_mm");
                }
                let gap = r.width_mm / r.discs as f32;
                let row = |shift: f32| -> Vec<Vec2> {
                    (0..r.discs)
                        .map(|d| Vec2::new(-r.width_mm / 2.0 + gap * (d as f32 + 0.5) + shift, 0.0))
                        .collect()
                };
                let pitch = std::f32::consts::PI * r.diameter_mm / r.needles_per_disc as f32;
                (vec![row(-gap / 4.0), row(gap / 4.0)], Some(pitch))
            }
            ToolKind::Pen | ToolKind::Stamp => {
                let grid_n = profile
                    .grid
                    .as_ref()
                    .map_or(0, |g| u64::from(g.rows) * u64::from(g.cols));
                let total = u64::from(profile.center)
                    + profile
                        .rings
                        .iter()
                        .map(|r| u64::from(r.count))
                        .sum::<u64>()
                    + grid_n
                    + profile.points_mm.len() as u64;
                if total > 10_000 {
                    return bad("", "more than 10,000 needles");
                }
                let mut needles = Vec::new();
                if profile.center {
                    needles.push(Vec2::ZERO);
                }
                for ring in &profile.rings {
                    if !(ring.radius_mm.is_finite() && ring.radius_mm >= 0.0) {
                        return bad("rings", "ring radius must be non-negative");
                    }
                    for k in 0..ring.count {
                        let a = ring.phase_deg.to_radians()
                            + std::f32::consts::TAU * k as f32 / ring.count as f32;
                        needles.push(Vec2::from_angle(a) * ring.radius_mm);
                    }
                }
                if let Some(g) = &profile.grid {
                    if !positive(g.pitch_mm) {
                        return bad("grid.pitch_mm", "grid pitch must be positive");
                    }
                    for row in 0..g.rows {
                        for col in 0..g.cols {
                            needles.push(Vec2::new(
                                (col as f32 - (g.cols as f32 - 1.0) / 2.0) * g.pitch_mm,
                                (row as f32 - (g.rows as f32 - 1.0) / 2.0) * g.pitch_mm,
                            ));
                        }
                    }
                }
                needles.extend(profile.points_mm.iter().map(|&p| Vec2::from(p)));
                if needles.is_empty() {
                    return bad("", "no needles: give center, rings, grid or points_mm");
                }
                if needles.iter().any(|n| !n.is_finite() || n.length() > 50.0) {
                    return bad(
                        "",
                        "needle positions must be finite and within 50 mm of the centre",
                    );
                }
                (vec![needles], None)
            }
        };
        if profile
            .rate_hz
            .is_some_and(|r| !positive(r) || r > 10_000.0)
        {
            return bad("rate_hz", "rate_hz must be within 0 to 10000");
        }
        let footprint_mm = match &profile.roller {
            Some(r) if profile.kind == ToolKind::Roller => r.width_mm,
            _ => {
                let n = &patterns[0];
                let (lo, hi) = n.iter().fold((f32::MAX, f32::MIN), |(lo, hi), p| {
                    (lo.min(p.x), hi.max(p.x))
                });
                // A single needle column still leaves a track; give it one needle gap.
                (hi - lo).max(0.5)
            }
        };
        Ok(Self {
            profile: profile.clone(),
            patterns,
            row_pitch_mm,
            footprint_mm,
        })
    }

    /// Needles that strike together in one strike (the first pattern).
    pub fn needles_per_strike(&self) -> usize {
        self.patterns.first().map_or(0, Vec::len)
    }

    /// Total needles on the tool.
    pub fn needle_count(&self) -> u32 {
        match (&self.profile.roller, self.profile.kind) {
            (Some(r), ToolKind::Roller) => r.discs * r.needles_per_disc,
            _ => self.needles_per_strike() as u32,
        }
    }

    /// The depth needles reach at full contact for a set depth: the fixed
    /// needle length for stamps and rollers, else the set depth.
    pub fn reach_mm(&self, set_depth_mm: f32) -> f32 {
        self.profile.needle_length_mm.unwrap_or(set_depth_mm)
    }
}

/// Checks the profiles of `profiles`, read from the array `array_key` of
/// TOML `text` (a tools file or a script); a mistake is located at its key
/// in the profile, or at the profile.
pub fn check_profiles(
    path: &Path,
    text: &str,
    array_key: &str,
    profiles: &[ToolProfile],
) -> Result<()> {
    for (i, profile) in profiles.iter().enumerate() {
        if let Err((key, m)) = Tool::build(profile) {
            let index = i.to_string();
            let mut keys = vec![array_key, index.as_str()];
            keys.extend(key.split('.').filter(|k| !k.is_empty()));
            return Err(Error::at_toml_keys(
                path,
                text,
                &keys,
                format!("tool {}: {m}", profile.name),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_profiles_have_the_real_needle_counts() {
        let profiles = ToolProfiles::shipped().unwrap();
        for (name, needles, per_strike) in [
            ("pen-6", 6, 6),
            ("pen-11", 11, 11),
            ("pen-12", 12, 12),
            ("pen-14", 14, 14),
            ("pen-16", 16, 16),
            ("pen-nano-36", 36, 36),
            ("pen-nano-42", 42, 42),
            ("roller-192", 192, 8),
            ("roller-540", 540, 12),
            ("stamp-35", 35, 35),
            ("nano-stamp-36", 36, 36),
        ] {
            let tool = profiles.tool(name).unwrap();
            assert_eq!(tool.needle_count(), needles, "{name}");
            assert_eq!(tool.needles_per_strike(), per_strike, "{name}");
        }
    }

    #[test]
    fn pen_needles_sit_on_their_rings_and_stay_inside_the_cartridge() {
        let tool = ToolProfiles::shipped().unwrap().tool("pen-14").unwrap();
        let outer = tool.patterns[0]
            .iter()
            .filter(|n| (n.length() - 1.8).abs() < 1e-5)
            .count();
        let inner = tool.patterns[0]
            .iter()
            .filter(|n| (n.length() - 0.8).abs() < 1e-5)
            .count();
        assert_eq!((outer, inner), (10, 4));
        // A round cartridge of 5 to 8 mm across.
        assert!((tool.footprint_mm - 3.6).abs() < 1e-4);
    }

    #[test]
    fn bad_profiles_are_refused_with_the_reason() {
        let err = ToolProfiles::parse("t.toml", "[[tool_profile]]\nname = \"x\"\nkind = \"pen\"\n")
            .and_then(|p| p.tool("x"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no needles"), "{err}");
        let err = ToolProfiles::parse(
            "t.toml",
            "[[tool_profile]]\nname = \"x\"\nkind = \"brush\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("t.toml:3:8"), "{err}");
    }
}
