//! The cues by name, and a set of them to switch on.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One technique cue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CueKind {
    /// Slower than the speed band: builds hot spots.
    SpeedLow,
    /// Faster than the speed band: leaves gaps.
    SpeedHigh,
    /// Resting or crawling while the density under the tool passes the
    /// hot-spot threshold.
    Dwell,
    /// The tool leans from the surface normal beyond the limit.
    Tilt,
    /// Set (or measured) depth beyond the zone's limit.
    Depth,
    /// In a zone whose limit is 0 mm.
    NoGo,
    /// The skin just ahead already holds the band's density from earlier passes.
    Overlap,
}

impl CueKind {
    /// Every cue, in report order.
    pub const ALL: [CueKind; 7] = [
        CueKind::SpeedLow,
        CueKind::SpeedHigh,
        CueKind::Dwell,
        CueKind::Tilt,
        CueKind::Depth,
        CueKind::NoGo,
        CueKind::Overlap,
    ];

    /// Position in [`CueKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name in reports and on the command line (`speed-low`, `no-go`).
    pub fn name(self) -> &'static str {
        match self {
            CueKind::SpeedLow => "speed-low",
            CueKind::SpeedHigh => "speed-high",
            CueKind::Dwell => "dwell",
            CueKind::Tilt => "tilt",
            CueKind::Depth => "depth",
            CueKind::NoGo => "no-go",
            CueKind::Overlap => "overlap",
        }
    }
}

impl std::fmt::Display for CueKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Cues switched on. Written as a list of names; `speed` stands for both
/// speed cues, `all` for every cue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CueSet(u8);

impl Default for CueSet {
    fn default() -> Self {
        Self::ALL
    }
}

impl CueSet {
    /// Every cue.
    pub const ALL: CueSet = CueSet((1 << CueKind::ALL.len()) - 1);
    /// No cue.
    pub const NONE: CueSet = CueSet(0);

    /// Whether `cue` is on.
    pub fn contains(self, cue: CueKind) -> bool {
        self.0 & (1 << cue.index()) != 0
    }

    /// With `other`'s cues added.
    pub fn with(self, other: CueSet) -> CueSet {
        CueSet(self.0 | other.0)
    }

    /// Without `other`'s cues.
    pub fn without(self, other: CueSet) -> CueSet {
        CueSet(self.0 & !other.0)
    }

    /// The cues one name means.
    pub fn named(name: &str) -> Result<CueSet, String> {
        let name = name.trim();
        if name == "all" {
            return Ok(CueSet::ALL);
        }
        if name == "speed" {
            return Ok(CueSet::of(CueKind::SpeedLow).with(CueSet::of(CueKind::SpeedHigh)));
        }
        CueKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .map(CueSet::of)
            .ok_or_else(|| {
                let names: Vec<&str> = CueKind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown cue {name:?}; the cues are speed, {} and all",
                    names.join(", ")
                )
            })
    }

    /// The cues of a comma-separated list of names (`speed,dwell`).
    pub fn parse_list(list: &str) -> Result<CueSet, String> {
        list.split(',')
            .filter(|n| !n.trim().is_empty())
            .try_fold(CueSet::NONE, |set, n| Ok(set.with(CueSet::named(n)?)))
    }

    /// The set holding only `cue`.
    pub fn of(cue: CueKind) -> CueSet {
        CueSet(1 << cue.index())
    }

    /// The cues in it, in report order.
    pub fn kinds(self) -> impl Iterator<Item = CueKind> {
        CueKind::ALL.into_iter().filter(move |k| self.contains(*k))
    }
}

impl Serialize for CueSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.kinds().map(CueKind::name))
    }
}

impl<'de> Deserialize<'de> for CueSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        names.iter().try_fold(CueSet::NONE, |set, n| {
            Ok(set.with(CueSet::named(n).map_err(serde::de::Error::custom)?))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_of_names_switch_cues() {
        let set = CueSet::parse_list("speed,dwell").unwrap();
        assert!(set.contains(CueKind::SpeedLow) && set.contains(CueKind::SpeedHigh));
        assert!(set.contains(CueKind::Dwell) && !set.contains(CueKind::Tilt));
        let set = CueSet::ALL.without(CueSet::named("no-go").unwrap());
        assert!(!set.contains(CueKind::NoGo) && set.contains(CueKind::Depth));
        let err = CueSet::parse_list("speed,wobble").unwrap_err();
        assert!(err.contains("wobble") && err.contains("overlap"), "{err}");
    }
}
