//! The session's time series on scripted passes: a script moving at a known
//! speed gives that speed, the density under the tool builds towards the
//! band, and depths sit at the set depth against the zone's limit.

mod common;

use penlab_simulator::cues::CueConfig;
use penlab_simulator::headless::simulate;
use penlab_simulator::series::{MAX_BUCKETS, Series};

/// [`common::pad_crosshatch`], simulated: its series.
fn series_of(speed: f32, extra: &str) -> Series {
    let script = common::pad_crosshatch(speed, extra);
    let sim = simulate(&script, &CueConfig::default()).unwrap();
    sim.analysis.report.series.unwrap()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn a_known_scripted_speed_is_the_series_speed() {
    for speed in [200.0, 400.0] {
        let s = series_of(speed, "");
        assert!(s.points.len() > 20 && s.points.len() <= MAX_BUCKETS);
        let speeds: Vec<f64> = s.points.iter().filter_map(|p| p.speed_mm_s).collect();
        let m = median(speeds.clone());
        assert!(
            (m - f64::from(speed)).abs() < 0.03 * f64::from(speed),
            "median {m} at {speed} mm/s"
        );
        // Most buckets are within 5 % (turns at line ends are the rest).
        let near = speeds
            .iter()
            .filter(|&&v| (v - f64::from(speed)).abs() < 0.05 * f64::from(speed))
            .count();
        assert!(near * 10 >= speeds.len() * 8, "{near} of {}", speeds.len());
        // The band the cues judge by, with its target inside.
        let [lo, hi] = s.speed_band_mm_s.unwrap();
        let target = s.speed_target_mm_s.unwrap();
        assert!(lo < target && target < hi, "{lo} {target} {hi}");
        assert!(lo < 400.0 && 400.0 < hi);
        // Points are in time order within the session.
        assert!(s.points.windows(2).all(|w| w[0].t < w[1].t));
        assert!(
            s.points
                .iter()
                .all(|p| p.t >= s.start_s && p.t <= s.end_s + s.bucket_s)
        );
    }
}

#[test]
fn density_under_the_tool_builds_towards_the_band() {
    let s = series_of(400.0, "");
    assert_eq!(s.density_band_per_cm2, [250.0, 300.0]);
    let n = s.points.len();
    let early = median(
        s.points[..n / 4]
            .iter()
            .map(|p| p.density_per_cm2)
            .collect(),
    );
    let late = median(
        s.points[3 * n / 4..]
            .iter()
            .map(|p| p.density_per_cm2)
            .collect(),
    );
    // The first direction leaves about half the band; the second brings
    // the skin behind the tool into it (the window also holds skin ahead,
    // still at one direction's density).
    assert!(early < 180.0, "early {early}");
    assert!(
        (180.0..=350.0).contains(&late) && late > 1.3 * early,
        "early {early} late {late}"
    );
    assert!(
        s.points
            .iter()
            .all(|p| p.density_per_cm2 < s.hot_above_per_cm2)
    );
}

#[test]
fn depth_is_the_set_depth_against_the_zones_limit() {
    let s = series_of(400.0, "[zones.pad]\nmax_depth_mm = 0.3");
    assert!(s.points.iter().all(|p| (p.depth_mm - 0.5).abs() < 1e-6));
    // The zone's limit is an f32: 0.3 to its precision.
    let near = |v: Option<f64>| v.is_some_and(|l| (l - 0.3).abs() < 1e-6);
    assert!(s.points.iter().all(|p| near(p.depth_limit_mm)));
    let json = serde_json::to_value(&s).unwrap();
    assert!(near(json["points"][0]["depth_limit_mm"].as_f64()));
}
