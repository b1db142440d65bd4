//! Throughput of the coverage engine: punctures per second through the
//! accumulate path alone, and through contact + accumulate for a 14-needle
//! pen, and the built-in head's startup cost. Run with
//! `cargo bench -p penlab-simulator --bench accumulate -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use glam::{Vec2, Vec3};
use penlab_simulator::accumulate::DensityGrid;
use penlab_simulator::pose::{Pose, orientation_facing};
use penlab_simulator::session::{Session, StrikeSource};
use penlab_simulator::surfaces::{self, ZoneLimits};
use penlab_simulator::tool::ToolProfiles;

const GRID: u32 = 512;
const PUNCTURES: usize = 1 << 20;

/// A deterministic xorshift, so runs compare.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Punctures as a pen makes them: clusters of 14 around a centre that
/// wanders across the grid.
fn pen_like_stream() -> Vec<(u32, f32)> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut x, mut y) = (256i64, 256i64);
    let mut out = Vec::with_capacity(PUNCTURES);
    while out.len() < PUNCTURES {
        x = (x + (rng.next() % 5) as i64 - 2).rem_euclid(i64::from(GRID));
        y = (y + (rng.next() % 5) as i64 - 2).rem_euclid(i64::from(GRID));
        for _ in 0..14 {
            let dx = (rng.next() % 19) as i64 - 9;
            let dy = (rng.next() % 19) as i64 - 9;
            let tx = (x + dx).clamp(0, i64::from(GRID) - 1);
            let ty = (y + dy).clamp(0, i64::from(GRID) - 1);
            out.push((
                (ty * i64::from(GRID) + tx) as u32,
                0.5 + (rng.next() % 100) as f32 * 1e-3,
            ));
        }
    }
    out.truncate(PUNCTURES);
    out
}

fn uniform_stream() -> Vec<(u32, f32)> {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    (0..PUNCTURES)
        .map(|_| ((rng.next() % u64::from(GRID * GRID)) as u32, 0.5))
        .collect()
}

fn accumulate(c: &mut Criterion) {
    let mut group = c.benchmark_group("accumulate");
    group.throughput(Throughput::Elements(PUNCTURES as u64));
    for (name, stream) in [
        ("pen_like", pen_like_stream()),
        ("uniform_random", uniform_stream()),
    ] {
        let mut grid = DensityGrid::new(GRID, GRID);
        group.bench_function(name, |b| {
            b.iter(|| {
                for &(t, d) in &stream {
                    grid.add_puncture(t, d);
                }
                black_box(grid.total())
            });
        });
    }
    group.finish();
}

fn contact_and_accumulate(c: &mut Criterion) {
    let limits = ZoneLimits::shipped().expect("shipped zones parse");
    let surface = Arc::new(surfaces::builtin("flat-pad", &limits, GRID).expect("flat pad builds"));
    let tool = Arc::new(
        ToolProfiles::shipped()
            .and_then(|p| p.tool("pen-14"))
            .expect("pen-14 builds"),
    );
    let poses: Vec<Pose> = (0..10_000)
        .map(|k| {
            let s = k as f32 / 10_000.0;
            let uv = Vec2::new(0.05 + 0.9 * s, 0.05 + 0.9 * ((s * 37.0).fract()));
            let p = surface.point_at_uv(uv).expect("inside the pad");
            Pose {
                t: f64::from(k) / 117.0,
                position: p.position,
                orientation: orientation_facing(p.normal, Vec3::X),
                force_n: 2.0,
                depth_mm: 0.5,
            }
        })
        .collect();
    let per_pose = tool.needles_per_strike() as u64;
    let mut group = c.benchmark_group("contact_accumulate");
    group.throughput(Throughput::Elements(poses.len() as u64 * per_pose));
    let mut session = Session::new(surface.clone(), tool.clone(), StrikeSource::Events, 4);
    group.bench_function("pen14_flat_pad", |b| {
        b.iter(|| {
            for p in &poses {
                session.strike_at(p);
            }
            black_box(session.grid().total())
        });
    });
    let face = Arc::new(surfaces::builtin("face", &limits, GRID).expect("face builds"));
    let face_poses: Vec<Pose> = poses
        .iter()
        .filter_map(|p| {
            let uv = Vec2::new(p.position.x / 100.0, p.position.y / 100.0);
            let q = face.point_at_uv(uv)?;
            Some(Pose {
                position: q.position,
                orientation: orientation_facing(q.normal, Vec3::Z),
                ..*p
            })
        })
        .collect();
    // The same strikes over the face alone (u 0.3 to 0.7, v 0.3 to 0.8 of the
    // head's map), where a trainer works.
    let front_poses: Vec<Pose> = poses
        .iter()
        .filter_map(|p| {
            let uv = Vec2::new(
                0.3 + 0.4 * p.position.x / 100.0,
                0.3 + 0.5 * p.position.y / 100.0,
            );
            let q = face.point_at_uv(uv)?;
            Some(Pose {
                position: q.position,
                orientation: orientation_facing(q.normal, Vec3::Z),
                ..*p
            })
        })
        .collect();
    for (name, poses) in [
        ("pen14_face", &face_poses),
        ("pen14_face_front", &front_poses),
    ] {
        group.throughput(Throughput::Elements(poses.len() as u64 * per_pose));
        let mut session = Session::new(face.clone(), tool.clone(), StrikeSource::Events, 4);
        group.bench_function(name, |b| {
            b.iter(|| {
                for p in poses {
                    session.strike_at(p);
                }
                black_box(session.grid().total())
            });
        });
    }
    group.finish();
}

/// Startup cost of the built-in head: decoding its geometry image (once per
/// process) and building the surface (area table and BVH) at the default grid.
fn surface_build(c: &mut Criterion) {
    let limits = ZoneLimits::shipped().expect("shipped zones");
    let mut group = c.benchmark_group("surface_build");
    group.bench_function("face_512", |b| {
        b.iter(|| black_box(surfaces::builtin("face", &limits, GRID).expect("face builds")));
    });
    group.finish();
}

criterion_group!(benches, accumulate, contact_and_accumulate, surface_build);
criterion_main!(benches);
