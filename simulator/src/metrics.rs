//! Metrics from a session's density grid: coverage in the target band,
//! evenness, gaps and hot spots, passes and depths.
//!
//! Density at a texel is the punctures per cm² of real skin in a square
//! window of `window_mm` around it (counts and real areas summed over the
//! window, treatment area only): a puncture is a point, so density only has
//! a meaning over an area, and the target band is stated per cm².

use glam::{DVec2, DVec3, Vec2};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::report::{
    AreaSummary, DepthReport, PassReport, REPORT_FORMAT, Region, RegionPassReport, RegionSet,
    Report, ZoneDepthReport,
};
use crate::session::{DEPTH_BIN_MM, DIRECTION_BIN_DEG, Session};
use crate::surface::{NO_ZONE, Surface};

/// Relative tolerance at the class thresholds (texel areas are f32).
const BAND_EPS: f64 = 1e-6;

/// How the metrics are computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Target density band, punctures/cm² (inclusive).
    pub band_per_cm2: [f64; 2],
    /// Below this density a place is a gap, punctures/cm².
    pub gap_below_per_cm2: f64,
    /// Above this density a place is a hot spot, punctures/cm².
    pub hot_above_per_cm2: f64,
    /// Side of the square window density is measured over, mm.
    pub window_mm: f64,
    /// Zones that make up the treatment area; empty means the whole surface.
    pub treatment_zones: Vec<String>,
    /// The treatment area is also limited to this u range …
    pub treatment_u: [f64; 2],
    /// … and this v range.
    pub treatment_v: [f64; 2],
    /// Gaps and hot spots smaller than this are not reported, cm².
    pub min_region_cm2: f64,
    /// At most this many gaps and hot spots are listed each.
    pub max_regions: usize,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            band_per_cm2: [250.0, 300.0],
            gap_below_per_cm2: 125.0,
            hot_above_per_cm2: 450.0,
            window_mm: 10.0,
            treatment_zones: Vec::new(),
            treatment_u: [0.0, 1.0],
            treatment_v: [0.0, 1.0],
            min_region_cm2: 0.01,
            max_regions: 20,
        }
    }
}

impl MetricsConfig {
    /// Checks the thresholds are ordered and positive.
    pub fn validate(&self) -> Result<()> {
        let [lo, hi] = self.band_per_cm2;
        let ok = lo.is_finite()
            && hi.is_finite()
            && 0.0 <= self.gap_below_per_cm2
            && self.gap_below_per_cm2 <= lo
            && lo <= hi
            && hi <= self.hot_above_per_cm2
            && self.hot_above_per_cm2.is_finite()
            && self.window_mm.is_finite()
            && self.window_mm >= 0.0
            && self.min_region_cm2 >= 0.0
            && self.treatment_u[0] < self.treatment_u[1]
            && self.treatment_v[0] < self.treatment_v[1];
        if ok {
            Ok(())
        } else {
            Err(Error::Invalid(format!(
                "metrics: need 0 ≤ gap_below ({}) ≤ band low ({lo}) ≤ band high ({hi}) ≤ hot_above ({}), window_mm ≥ 0 and increasing treatment_u, treatment_v ranges",
                self.gap_below_per_cm2, self.hot_above_per_cm2
            )))
        }
    }
}

/// Density class of a texel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[repr(u8)]
pub enum Class {
    /// Not part of the treatment area.
    Outside = 0,
    /// Below the gap threshold.
    Gap = 1,
    /// Between the gap threshold and the band.
    Under = 2,
    /// In the band.
    InBand = 3,
    /// Above the band.
    Over = 4,
    /// Above the hot-spot threshold.
    Hot = 5,
}

/// A report with the per-texel fields it was computed from (for the heatmap).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// The report.
    pub report: Report,
    /// Window density per texel, punctures/cm² (0 outside the treatment area).
    pub density: Vec<f32>,
    /// Class per texel.
    pub class: Vec<Class>,
    /// Grid width.
    pub width: u32,
    /// Grid height.
    pub height: u32,
}

/// Summed-area table over a `w` × `h` field, (w+1)·(h+1) entries.
fn summed(w: usize, h: usize, f: impl Fn(usize) -> f64) -> Vec<f64> {
    let mut s = vec![0.0; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0.0;
        for x in 0..w {
            row += f(y * w + x);
            s[(y + 1) * (w + 1) + x + 1] = s[y * (w + 1) + x + 1] + row;
        }
    }
    s
}

fn window_sum(s: &[f64], w: usize, x0: usize, y0: usize, x1: usize, y1: usize) -> f64 {
    let stride = w + 1;
    s[y1 * stride + x1] - s[y0 * stride + x1] - s[y1 * stride + x0] + s[y0 * stride + x0]
}

/// Which texels make up the treatment area: covered by the mesh, in a
/// selected zone and inside the configured UV ranges.
pub fn treatment_mask(surface: &Surface, config: &MetricsConfig) -> Result<Vec<bool>> {
    let table = &surface.area;
    let mut selected = vec![config.treatment_zones.is_empty(); surface.zones.len() + 1];
    for name in &config.treatment_zones {
        let i = surface.zone_index(name).ok_or_else(|| {
            let names: Vec<&str> = surface.zones.iter().map(|z| z.name.as_str()).collect();
            Error::Invalid(format!(
                "treatment zone {name:?} is not a zone of {}; its zones are {}",
                surface.name,
                names.join(", ")
            ))
        })?;
        selected[usize::from(i)] = true;
    }
    let zone_slot = |z: u16| {
        if z == NO_ZONE {
            surface.zones.len()
        } else {
            usize::from(z)
        }
    };
    let in_range = |c: f32, r: [f64; 2]| (r[0]..=r[1]).contains(&f64::from(c));
    Ok((0..table.area_cm2.len())
        .map(|i| {
            let uv = texel_uv(i as u32, table.width, table.height);
            table.area_cm2[i] > 0.0
                && selected[zone_slot(table.zone[i])]
                && in_range(uv.x, config.treatment_u)
                && in_range(uv.y, config.treatment_v)
        })
        .collect())
}

/// Half the side of the density window in texels (the window is
/// `2 × half + 1` texels square), from the mean texel size over `inside`.
pub fn window_half_texels(surface: &Surface, inside: &[bool], config: &MetricsConfig) -> usize {
    let table = &surface.area;
    let (mut area_cm2, mut n) = (0.0f64, 0usize);
    for (i, _) in inside.iter().enumerate().filter(|(_, in_)| **in_) {
        area_cm2 += f64::from(table.area_cm2[i]);
        n += 1;
    }
    let texel_mm = (area_cm2 * 100.0 / n.max(1) as f64).sqrt();
    if texel_mm > 0.0 {
        (config.window_mm / texel_mm / 2.0).round() as usize
    } else {
        0
    }
}

/// The class of a window density `d`, punctures/cm², inside the treatment area.
pub fn classify(d: f64, config: &MetricsConfig) -> Class {
    let [lo, hi] = config.band_per_cm2;
    // Band edges are inclusive; ε absorbs the f32 rounding of texel areas.
    let (below, above) = (1.0 - BAND_EPS, 1.0 + BAND_EPS);
    if d < config.gap_below_per_cm2 * below {
        Class::Gap
    } else if d < lo * below {
        Class::Under
    } else if d <= hi * above {
        Class::InBand
    } else if d <= config.hot_above_per_cm2 * above {
        Class::Over
    } else {
        Class::Hot
    }
}

/// Computes the metrics of a session as it stands (live or at the end).
pub fn analyse(session: &Session, config: &MetricsConfig) -> Result<Analysis> {
    config.validate()?;
    let surface = session.surface();
    let table = &surface.area;
    let (w, h) = (table.width as usize, table.height as usize);
    let n = w * h;
    let inside = treatment_mask(surface, config)?;
    let texels = session.grid().texels();
    let area = |i: usize| {
        if inside[i] {
            f64::from(table.area_cm2[i])
        } else {
            0.0
        }
    };
    let count = |i: usize| {
        if inside[i] {
            f64::from(texels[i].count)
        } else {
            0.0
        }
    };
    let s_area = summed(w, h, area);
    let s_count = summed(w, h, count);
    let treatment_cm2 = window_sum(&s_area, w, 0, 0, w, h);
    let in_treatment = window_sum(&s_count, w, 0, 0, w, h);
    let half = window_half_texels(surface, &inside, config);

    let mut density = vec![0.0f32; n];
    let mut class = vec![Class::Outside; n];
    let mut areas = AreaSummary {
        treatment_cm2,
        ..AreaSummary::default()
    };
    let (mut wsum, mut wsum2) = (0.0f64, 0.0f64);
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(half), (y + half + 1).min(h));
        for x in 0..w {
            let i = y * w + x;
            if !inside[i] {
                continue;
            }
            let (x0, x1) = (x.saturating_sub(half), (x + half + 1).min(w));
            let a = window_sum(&s_area, w, x0, y0, x1, y1);
            let d = if a > 0.0 {
                window_sum(&s_count, w, x0, y0, x1, y1) / a
            } else {
                0.0
            };
            density[i] = d as f32;
            let ta = area(i);
            let c = classify(d, config);
            *match c {
                Class::Gap => &mut areas.gap_cm2,
                Class::Under => &mut areas.under_cm2,
                Class::InBand => &mut areas.in_band_cm2,
                Class::Over => &mut areas.over_cm2,
                Class::Hot | Class::Outside => &mut areas.hot_cm2,
            } += ta;
            class[i] = c;
            if d > 0.0 {
                areas.treated_cm2 += ta;
                wsum += ta * d;
                wsum2 += ta * d * d;
            }
        }
    }
    let evenness_cv = if areas.treated_cm2 > 0.0 && wsum > 0.0 {
        let mean = wsum / areas.treated_cm2;
        let var = (wsum2 / areas.treated_cm2 - mean * mean).max(0.0);
        var.sqrt() / mean
    } else {
        0.0
    };
    let gaps = regions(session, config, &class, &density, Class::Gap);
    let hot_spots = regions(session, config, &class, &density, Class::Hot);
    let report = Report {
        format: REPORT_FORMAT.into(),
        version: 1,
        surface: surface.name.clone(),
        tool: session.tool().profile.name.clone(),
        grid: table.width,
        settings: config.clone(),
        duration_s: session.duration_s(),
        poses: session.poses(),
        strikes: session.strikes(),
        punctures: session.grid().total(),
        punctures_in_treatment_area: in_treatment as u64,
        coverage: if treatment_cm2 > 0.0 {
            areas.in_band_cm2 / treatment_cm2
        } else {
            0.0
        },
        mean_density_per_cm2: if treatment_cm2 > 0.0 {
            in_treatment / treatment_cm2
        } else {
            0.0
        },
        evenness_cv,
        area: areas,
        gaps,
        hot_spots,
        passes: pass_report(session),
        depth: depth_report(session),
        cues: None,
        series: None,
        rubric: None,
    };
    Ok(Analysis {
        report,
        density,
        class,
        width: table.width,
        height: table.height,
    })
}

/// 4-connected components of texels of class `want`.
fn regions(
    session: &Session,
    config: &MetricsConfig,
    class: &[Class],
    density: &[f32],
    want: Class,
) -> RegionSet {
    let surface = session.surface();
    let table = &surface.area;
    let (w, h) = (table.width as usize, table.height as usize);
    let mut seen = vec![false; class.len()];
    let mut stack = Vec::new();
    let mut found = Vec::new();
    let mut set = RegionSet::default();
    for start in 0..class.len() {
        if seen[start] || class[start] != want {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let (mut a, mut uv, mut p, mut dens) = (0.0f64, DVec2::ZERO, DVec3::ZERO, 0.0f64);
        let (mut lo, mut hi) = (DVec2::splat(f64::MAX), DVec2::splat(f64::MIN));
        let mut zone_area = vec![0.0f64; surface.zones.len() + 1];
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            let ta = f64::from(table.area_cm2[i]);
            let c = DVec2::new((x as f64 + 0.5) / w as f64, (y as f64 + 0.5) / h as f64);
            a += ta;
            uv += c * ta;
            dens += f64::from(density[i]) * ta;
            lo = lo.min(DVec2::new(x as f64 / w as f64, y as f64 / h as f64));
            hi = hi.max(DVec2::new(
                (x + 1) as f64 / w as f64,
                (y + 1) as f64 / h as f64,
            ));
            if let Some(q) = surface.point_at_uv(c.as_vec2()) {
                p += q.position.as_dvec3() * ta;
            }
            let z = table.zone[i];
            zone_area[if z == NO_ZONE {
                surface.zones.len()
            } else {
                usize::from(z)
            }] += ta;
            let mut visit = |j: usize| {
                if !seen[j] && class[j] == want {
                    seen[j] = true;
                    stack.push(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < w {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - w);
            }
            if y + 1 < h {
                visit(i + w);
            }
        }
        if a < config.min_region_cm2 || a <= 0.0 {
            continue;
        }
        let zone = zone_area
            .iter()
            .enumerate()
            .max_by(|x, y| x.1.total_cmp(y.1))
            .and_then(|(z, _)| surface.zones.get(z))
            .map(|z| z.name.clone());
        set.count += 1;
        set.total_area_cm2 += a;
        found.push(Region {
            area_cm2: a,
            centroid_uv: (uv / a).as_vec2(),
            centroid_mm: (p / a).as_vec3(),
            uv_min: lo.as_vec2(),
            uv_max: hi.as_vec2(),
            zone,
            mean_density_per_cm2: dens / a,
        });
    }
    found.sort_by(|x, y| y.area_cm2.total_cmp(&x.area_cm2));
    found.truncate(config.max_regions);
    set.largest = found;
    set
}

/// Dominant stroke directions from a direction histogram. A family is a
/// bin with its two neighbours (a direction near a bin edge splits between
/// two bins). The strongest family is dominant if it holds 40 % of the length
/// (evenly spread directions, as circles make, hold 25 %); a second family at
/// least 60° away is dominant if it holds 25 % and at least 0.4 of the first.
fn dominant(bins: &[f32]) -> Vec<f32> {
    let nb = bins.len();
    let total: f32 = bins.iter().sum();
    if total <= 0.0 || nb < 3 {
        return Vec::new();
    }
    let family = |b: usize| bins[(b + nb - 1) % nb] + bins[b] + bins[(b + 1) % nb];
    let strongest = |allowed: &dyn Fn(usize) -> bool| {
        (0..nb)
            .filter(|&b| allowed(b))
            .map(|b| (b, family(b), bins[b]))
            .max_by(|x, y| x.1.total_cmp(&y.1).then(x.2.total_cmp(&y.2)))
    };
    let Some((b1, w1, _)) = strongest(&|_| true) else {
        return Vec::new();
    };
    if w1 < 0.4 * total {
        return Vec::new();
    }
    let mut out = vec![b1 as f32 * DIRECTION_BIN_DEG];
    let far = |b: usize| {
        let d = b.abs_diff(b1);
        d.min(nb - d) as f32 * DIRECTION_BIN_DEG >= 60.0
    };
    if let Some((b2, w2, _)) = strongest(&far)
        && w2 >= 0.25 * total
        && w2 >= 0.4 * w1
    {
        out.push(b2 as f32 * DIRECTION_BIN_DEG);
    }
    out
}

#[cfg(test)]
mod direction_tests {
    use super::dominant;

    #[test]
    fn raster_crosshatch_and_circles_are_told_apart() {
        let mut raster = [0.0f32; 12];
        raster[0] = 100.0;
        assert_eq!(dominant(&raster), vec![0.0]);
        let mut cross = [0.0f32; 12];
        cross[0] = 50.0;
        cross[6] = 30.0;
        cross[7] = 20.0;
        assert_eq!(dominant(&cross), vec![0.0, 90.0]);
        assert!(
            dominant(&[10.0f32; 12]).is_empty(),
            "circles have no dominant direction"
        );
    }
}

fn pass_report(session: &Session) -> PassReport {
    let stats = session.passes();
    let surface = session.surface();
    let c = stats.cells as usize;
    let n = f64::from(stats.strokes);
    let mean = if n > 0.0 { stats.speed_sum / n } else { 0.0 };
    let var = if n > 0.0 {
        (stats.speed_sq_sum / n - mean * mean).max(0.0)
    } else {
        0.0
    };
    let regions = stats
        .regions
        .iter()
        .enumerate()
        .filter(|(_, r)| r.passes > 0)
        .map(|(i, r)| {
            let region = if i < c * c {
                format!("cell r{} c{}", i / c, i % c)
            } else {
                format!(
                    "zone {}",
                    surface
                        .zones
                        .get(i - c * c)
                        .map_or("?", |z| z.name.as_str())
                )
            };
            let dirs = dominant(&r.direction_mm);
            // Directions are undirected (mod 180°): 90° ± 30° apart.
            let crosshatch = dirs.len() == 2 && {
                let d = (dirs[0] - dirs[1]).abs();
                d.min(180.0 - d) >= 60.0
            };
            RegionPassReport {
                region,
                passes: r.passes,
                length_mm: r.direction_mm.iter().map(|&x| f64::from(x)).sum(),
                dominant_directions_deg: dirs,
                crosshatch,
            }
        })
        .collect();
    PassReport {
        strokes: stats.strokes,
        length_mm: stats.length_mm,
        mean_speed_mm_s: mean,
        speed_cv: if mean > 0.0 { var.sqrt() / mean } else { 0.0 },
        regions,
    }
}

fn depth_report(session: &Session) -> DepthReport {
    let d = session.depth();
    let surface = session.surface();
    let total: u64 = d.histogram.iter().sum();
    let zones: Vec<ZoneDepthReport> = d
        .zones
        .iter()
        .enumerate()
        .filter(|(_, z)| z.punctures > 0)
        .map(|(i, z)| ZoneDepthReport {
            zone: surface
                .zones
                .get(i)
                .map_or_else(|| "(none)".into(), |z| z.name.clone()),
            limit_mm: surface.zones.get(i).and_then(|z| z.max_depth_mm),
            punctures: z.punctures,
            max_mm: z.max_depth_mm,
            violations: z.violations,
        })
        .collect();
    DepthReport {
        bin_mm: DEPTH_BIN_MM,
        histogram: d.histogram.clone(),
        mean_mm: if total > 0 {
            d.sum_mm / total as f64
        } else {
            0.0
        },
        max_mm: d.max_mm,
        violations: zones.iter().map(|z| z.violations).sum(),
        zones,
    }
}

/// UV of a texel's centre.
pub fn texel_uv(texel: u32, width: u32, height: u32) -> Vec2 {
    Vec2::new(
        ((texel % width) as f32 + 0.5) / width as f32,
        ((texel / width) as f32 + 0.5) / height as f32,
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use glam::Vec3;

    use super::*;
    use crate::pose::Pose;
    use crate::session::{Session, StrikeSource};
    use crate::surfaces::{ZoneLimits, builtin};
    use crate::tool::ToolProfiles;

    /// The flat pad at 100 texels a side: 1 mm² per texel. Single-needle
    /// strikes at texel centres over the left half only, `per_texel` each.
    fn half_treated(per_texel: u32) -> Session {
        let pad = Arc::new(builtin("flat-pad", &ZoneLimits::shipped().unwrap(), 100).unwrap());
        let profiles = ToolProfiles::parse(
            "t.toml",
            "[[tool_profile]]\nname = \"one\"\nkind = \"pen\"\ncenter = true\n",
        )
        .unwrap();
        let tool = Arc::new(profiles.tool("one").unwrap());
        let mut s = Session::new(pad, tool, StrikeSource::Events, 4);
        for y in 0..100 {
            for x in 0..50 {
                for _ in 0..per_texel {
                    s.strike_at(&Pose {
                        t: 0.0,
                        position: Vec3::new(x as f32 + 0.5, y as f32 + 0.5, 0.0),
                        orientation: glam::Quat::IDENTITY,
                        force_n: 2.0,
                        depth_mm: 0.425,
                    });
                }
            }
        }
        s
    }

    #[test]
    fn half_a_pad_at_three_per_mm2_is_half_in_band_with_one_gap() {
        // 3 per mm² = 300 per cm²: the top of the band.
        let session = half_treated(3);
        let config = MetricsConfig {
            window_mm: 0.0,
            ..MetricsConfig::default()
        };
        let r = analyse(&session, &config).unwrap().report;
        assert!((r.area.treatment_cm2 - 100.0).abs() < 1e-3);
        assert!((r.coverage - 0.5).abs() < 1e-6, "{}", r.coverage);
        assert!((r.mean_density_per_cm2 - 150.0).abs() < 1e-3);
        assert!(r.evenness_cv.abs() < 1e-6, "treated half is perfectly even");
        assert_eq!(r.gaps.count, 1);
        let gap = &r.gaps.largest[0];
        assert!((gap.area_cm2 - 50.0).abs() < 1e-3);
        assert!((gap.centroid_uv - Vec2::new(0.75, 0.5)).length() < 1e-4);
        assert!((gap.centroid_mm - Vec3::new(75.0, 50.0, 0.0)).length() < 1e-2);
        assert_eq!(r.hot_spots.count, 0);
        assert_eq!(
            r.depth.histogram[8], 15_000,
            "0.425 mm falls in bin 8 of 0.05 mm"
        );
        assert_eq!(r.depth.violations, 0);
    }

    #[test]
    fn a_window_blurs_the_edge_but_keeps_the_mean() {
        let session = half_treated(5); // 500 per cm²: a hot spot
        let r = analyse(&session, &MetricsConfig::default()).unwrap().report;
        assert!((r.mean_density_per_cm2 - 250.0).abs() < 1e-3);
        assert_eq!(r.hot_spots.count, 1);
        // A 10 mm window straddling the edge at x = 50 mm sees between 0 and 500.
        assert!(r.area.in_band_cm2 > 0.0 && r.area.in_band_cm2 < 10.0);
        let hot = &r.hot_spots.largest[0];
        assert!(hot.centroid_uv.x < 0.25 && hot.area_cm2 < 50.0 && hot.area_cm2 > 40.0);
    }

    #[test]
    fn zone_selection_and_bad_thresholds_are_checked() {
        let session = half_treated(1);
        let config = MetricsConfig {
            treatment_zones: vec!["forehead".into()],
            ..MetricsConfig::default()
        };
        let err = analyse(&session, &config).unwrap_err().to_string();
        assert!(err.contains("forehead") && err.contains("pad"), "{err}");
        let config = MetricsConfig {
            band_per_cm2: [300.0, 250.0],
            ..MetricsConfig::default()
        };
        assert!(analyse(&session, &config).is_err());
    }
}
