//! The live heatmap against the batch metrics: folding punctures in as they
//! come must give exactly the classes `metrics::analyse` gives at the end,
//! and the patches handed out must rebuild the whole picture.

use std::path::Path;
use std::sync::Arc;

use penlab_live::coverage::{HeatmapMode, LiveCoverage, Patch, SKIN};
use penlab_simulator::metrics::{self, Class};
use penlab_simulator::script::Script;
use penlab_simulator::session::Event;

fn scripted(
    script: &str,
    grid: u32,
    update_every: usize,
) -> (LiveCoverage, Vec<[u8; 4]>, Vec<Patch>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts")
        .join(script);
    let mut script = Script::load(&path).unwrap();
    script.spec.surface.grid = grid;
    let surface = Arc::new(script.surface().unwrap());
    let tool = Arc::new(script.tool().unwrap());
    let events = script.events(&surface, &tool).unwrap();
    let source = script.strike_source(&tool);
    let mut live = LiveCoverage::new(
        surface.clone(),
        tool.clone(),
        source,
        script.spec.metrics.clone(),
        8,
    )
    .unwrap();
    let initial = live.rgba().to_vec();
    let mut patches = Vec::new();
    live.take_patches(&mut patches);
    patches.clear();
    for (k, event) in events.iter().enumerate() {
        if let Event::Pose(p) = event {
            live.push_pose(*p);
        }
        if k % update_every == 0 {
            live.update();
            live.take_patches(&mut patches);
        }
    }
    live.update();
    live.take_patches(&mut patches);
    (live, initial, patches)
}

fn assert_matches_batch(live: &LiveCoverage) {
    let analysis = metrics::analyse(live.session(), live.config()).unwrap();
    let mut mismatched = 0;
    for (i, &class) in analysis.class.iter().enumerate() {
        if live.class(i as u32) != class {
            mismatched += 1;
        }
        let d = live.density(i as u32);
        assert!(
            (d - f64::from(analysis.density[i])).abs() <= 1e-3 * d.max(1.0),
            "texel {i}: live density {d}, batch {}",
            analysis.density[i]
        );
    }
    assert_eq!(
        mismatched, 0,
        "texels whose live class differs from the batch metrics"
    );
}

#[test]
fn folded_a_frame_at_a_time_the_heatmap_equals_the_batch_metrics() {
    let (live, _, _) = scripted("crosshatch-pad.toml", 128, 7);
    assert!(live.session().grid().total() > 10_000);
    assert_matches_batch(&live);
    // The crosshatch is designed to land in the band: most of the pad is green.
    let green = (0..128 * 128)
        .filter(|&i| live.class(i) == Class::InBand)
        .count();
    assert!(green > 128 * 128 / 2, "{green} texels in band");
}

#[test]
fn a_bulk_load_takes_the_rebuild_path_and_agrees_too() {
    // One update at the very end: every texel changed at once.
    let (live, _, _) = scripted("crosshatch-pad.toml", 128, usize::MAX);
    assert_matches_batch(&live);
}

#[test]
fn patches_rebuild_the_picture_and_cover_only_what_changed() {
    let (live, initial, patches) = scripted("crosshatch-pad.toml", 128, 13);
    let (w, _) = live.size();
    let mut image = initial.clone();
    for p in &patches {
        assert_eq!(p.rgba.len(), (p.width * p.height * 4) as usize);
        for row in 0..p.height {
            for col in 0..p.width {
                let i = ((p.y + row) * w + p.x + col) as usize;
                let k = ((row * p.width + col) * 4) as usize;
                image[i].copy_from_slice(&p.rgba[k..k + 4]);
            }
        }
    }
    assert_eq!(
        image,
        live.rgba(),
        "patches applied to the first image give the current one"
    );
    assert!(live.rgba().iter().any(|&c| c != SKIN));
}

#[test]
fn a_quiet_frame_uploads_nothing() {
    let (mut live, _, _) = scripted("crosshatch-pad.toml", 64, 5);
    let mut patches = Vec::new();
    assert_eq!(live.update(), 0);
    live.take_patches(&mut patches);
    assert!(patches.is_empty());
}

#[test]
fn the_depth_view_recolours_everything_once() {
    let (mut live, _, _) = scripted("crosshatch-pad.toml", 64, 5);
    let before = live.rgba().to_vec();
    live.set_mode(HeatmapMode::Depth);
    let mut patches = Vec::new();
    live.take_patches(&mut patches);
    assert_eq!(patches.len(), 4, "a 64² grid is four 32² tiles");
    assert_ne!(before, live.rgba());
    // 0.5 mm on the shallow end of the ramp: every treated texel has the same colour.
    let treated: std::collections::BTreeSet<_> =
        live.rgba().iter().filter(|&&c| c != SKIN).collect();
    assert!(treated.len() <= 3, "{treated:?}");
}
