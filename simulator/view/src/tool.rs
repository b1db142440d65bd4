//! The tool over the skin (pen, roller or stamp, built from its profile),
//! its needles and the pass trails, coloured by depth.

use std::collections::VecDeque;
use std::f32::consts::FRAC_PI_2;

use bevy::prelude::*;
use penlab_live::coverage::depth_colour;
use penlab_simulator::tool::{Tool, ToolKind};

use crate::pen::{FramePoses, Live, Options, SimSet, ToolPose};
use crate::scene::SurfaceFrame;

/// Most trail points kept: trails show the recent passes, and drawing them
/// must not grow with the session.
pub const TRAIL_POINTS: usize = 20_000;
/// Trails sit this far above the skin, mm, so they do not flicker into it.
const TRAIL_LIFT_MM: f32 = 0.25;

/// The tool's root entity (its transform is the pose).
#[derive(Component)]
pub struct ToolModel;

/// One needle, extended by the set depth.
#[derive(Component)]
pub struct Needle;

/// The part of the tool coloured by depth.
#[derive(Component)]
pub struct DepthRing;

/// Recent contact points of the tool: engine-frame position, depth, and
/// whether a new stroke starts there.
#[derive(Resource, Debug, Default)]
pub struct Trails {
    /// The points, oldest first.
    pub points: VecDeque<TrailPoint>,
    /// Trails are drawn.
    pub visible: bool,
}

/// One point of a pass trail.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrailPoint {
    /// Where, world.
    pub at: Vec3,
    /// Set depth there, mm.
    pub depth_mm: f32,
    /// First point of a stroke.
    pub starts_stroke: bool,
}

/// The tool model, needles and trails.
pub struct ToolPlugin;

impl Plugin for ToolPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(Trails {
            points: VecDeque::new(),
            visible: true,
        })
        .add_systems(PostStartup, spawn_tool)
        .add_systems(
            Update,
            (place_tool, extend_trails, draw_trails).in_set(SimSet::Present),
        );
    }
}

fn material(
    materials: &mut Assets<StandardMaterial>,
    rgb: [u8; 3],
    rough: f32,
) -> Handle<StandardMaterial> {
    materials.add(StandardMaterial {
        base_color: Color::srgb_u8(rgb[0], rgb[1], rgb[2]),
        perceptual_roughness: rough,
        ..default()
    })
}

/// A cylinder along the tool axis (local z) from `z0` to `z1`.
fn along_z(radius: f32, z0: f32, z1: f32) -> (Cylinder, Transform) {
    (
        Cylinder::new(radius, (z1 - z0).abs().max(0.01)),
        Transform::from_xyz(0.0, 0.0, (z0 + z1) / 2.0)
            .with_rotation(Quat::from_rotation_x(FRAC_PI_2)),
    )
}

fn spawn_tool(
    mut commands: Commands,
    options: Res<Options>,
    frame: Res<SurfaceFrame>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let tool: &Tool = &options.0.tool;
    let body = material(&mut materials, [235, 238, 242], 0.35);
    let dark = material(&mut materials, [60, 66, 76], 0.5);
    let clear = materials.add(StandardMaterial {
        base_color: Color::srgba(0.8, 0.9, 1.0, 0.45),
        alpha_mode: AlphaMode::Blend,
        ..default()
    });
    let ring = materials.add(StandardMaterial {
        base_color: Color::srgb_u8(254, 196, 79),
        unlit: true,
        ..default()
    });
    let steel = material(&mut materials, [190, 195, 200], 0.2);
    let needle_mesh = meshes.add(Cylinder::new(0.12, 1.0));
    let root = commands
        .spawn((
            Name::new("tool"),
            ToolModel,
            Transform::default(),
            Visibility::Hidden,
        ))
        .id();
    commands.entity(frame.root).add_child(root);
    let mut parts: Vec<(Handle<Mesh>, Handle<StandardMaterial>, Transform, bool)> = Vec::new();
    let footprint = tool.footprint_mm.max(4.0);
    match tool.profile.kind {
        ToolKind::Pen => {
            let r = (footprint / 2.0 + 1.5).max(4.0);
            let (c, t) = along_z(r, 0.0, 14.0);
            parts.push((meshes.add(c), clear.clone(), t, false));
            let (c, t) = along_z(r + 0.2, 0.0, 0.8);
            parts.push((meshes.add(c), ring.clone(), t, true));
            let (c, t) = along_z(r + 3.0, 14.0, 30.0);
            parts.push((meshes.add(c), dark.clone(), t, false));
            let (c, t) = along_z(r + 3.5, 30.0, 150.0);
            parts.push((meshes.add(c), body.clone(), t, false));
        }
        ToolKind::Roller => {
            let spec = tool.profile.roller.as_ref();
            let (dia, width) = spec.map_or((16.0, 20.0), |s| (s.diameter_mm, s.width_mm));
            // Drum axis along the tool's x, touching the skin along its line.
            parts.push((
                meshes.add(Cylinder::new(dia / 2.0, width)),
                steel.clone(),
                Transform::from_xyz(0.0, 0.0, dia / 2.0)
                    .with_rotation(Quat::from_rotation_z(FRAC_PI_2)),
                false,
            ));
            let (c, t) = along_z(1.5, dia / 2.0, dia / 2.0 + 25.0);
            parts.push((
                meshes.add(c),
                dark.clone(),
                t.with_translation(Vec3::new(0.0, -dia / 2.0 - 2.0, dia / 2.0 + 12.5)),
                false,
            ));
            let (c, t) = along_z(5.0, dia / 2.0 + 25.0, dia / 2.0 + 120.0);
            parts.push((
                meshes.add(c),
                body.clone(),
                t.with_translation(Vec3::new(0.0, -dia / 2.0 - 2.0, dia / 2.0 + 72.5)),
                false,
            ));
            parts.push((
                meshes.add(Cylinder::new(dia / 2.0 + 0.3, 1.0)),
                ring.clone(),
                Transform::from_xyz(width / 2.0 + 0.5, 0.0, dia / 2.0)
                    .with_rotation(Quat::from_rotation_z(FRAC_PI_2)),
                true,
            ));
        }
        ToolKind::Stamp => {
            parts.push((
                meshes.add(Cuboid::new(footprint + 2.0, footprint + 2.0, 3.0)),
                dark.clone(),
                Transform::from_xyz(0.0, 0.0, 1.5),
                false,
            ));
            parts.push((
                meshes.add(Cuboid::new(footprint + 2.4, footprint + 2.4, 0.6)),
                ring.clone(),
                Transform::from_xyz(0.0, 0.0, 0.3),
                true,
            ));
            let (c, t) = along_z(5.0, 3.0, 110.0);
            parts.push((meshes.add(c), body.clone(), t, false));
        }
    }
    commands.entity(root).with_children(|c| {
        for (mesh, mat, transform, is_ring) in parts {
            let mut e = c.spawn((Mesh3d(mesh), MeshMaterial3d(mat), transform));
            if is_ring {
                e.insert(DepthRing);
            }
        }
        if tool.profile.kind != ToolKind::Roller {
            for p in tool.patterns.first().into_iter().flatten() {
                c.spawn((
                    Needle,
                    Mesh3d(needle_mesh.clone()),
                    MeshMaterial3d(steel.clone()),
                    Transform::from_xyz(p.x, p.y, 0.0),
                ));
            }
        }
    });
}

/// The depth the view shows for the tool now: the pen's set depth, else the
/// tool's fixed needle length.
fn shown_depth(live: &Live, tool: &Tool, pose: &penlab_simulator::pose::Pose) -> f32 {
    let set = live
        .0
        .pen()
        .status
        .as_ref()
        .map_or(pose.depth_mm, |s| f32::from(s.depth_set_um) / 1000.0);
    tool.reach_mm(set)
}

#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn place_tool(
    pose: Res<ToolPose>,
    live: Res<Live>,
    options: Res<Options>,
    time: Res<Time>,
    mut tool_q: Query<(&mut Transform, &mut Visibility), (With<ToolModel>, Without<Needle>)>,
    mut needles: Query<&mut Transform, (With<Needle>, Without<ToolModel>)>,
    rings: Query<&MeshMaterial3d<StandardMaterial>, With<DepthRing>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let Ok((mut transform, mut visibility)) = tool_q.single_mut() else {
        return;
    };
    let Some(p) = pose.pose else {
        *visibility = Visibility::Hidden;
        return;
    };
    *visibility = Visibility::Inherited;
    // Hovering, the tool floats a little above the skin.
    let hover = if pose.contact { 0.0 } else { 3.0 };
    *transform =
        Transform::from_translation(p.position + p.axis() * hover).with_rotation(p.orientation);
    let depth = shown_depth(&live, &options.0.tool, &p);
    let running = live.0.pen().running() || !live.0.pen_drives_strikes();
    // The needles go in and out while the motor runs.
    let stroke = if running && pose.contact {
        0.55 + 0.45 * (time.elapsed_secs() * 37.0).sin()
    } else {
        0.0
    };
    let length = (depth * stroke).max(0.01);
    for mut t in &mut needles {
        t.translation.z = -length / 2.0;
        t.rotation = Quat::from_rotation_x(FRAC_PI_2);
        t.scale = Vec3::new(1.0, length, 1.0);
    }
    let zone_limit = live.0.coverage.zone_limit_under(&p);
    let [r, g, b, _] = if zone_limit.is_some_and(|l| depth > l + 1e-6) {
        penlab_live::coverage::TOO_DEEP
    } else {
        depth_colour(depth)
    };
    for handle in &rings {
        if let Some(mut m) = materials.get_mut(&handle.0) {
            let c = Color::srgb_u8(r, g, b);
            if m.base_color != c {
                m.base_color = c;
            }
        }
    }
}

fn extend_trails(
    poses: Res<FramePoses>,
    frame: Res<SurfaceFrame>,
    live: Res<Live>,
    options: Res<Options>,
    mut trails: ResMut<Trails>,
    mut was_in_contact: Local<bool>,
) {
    for p in &poses.0 {
        if p.force_n <= 0.0 {
            *was_in_contact = false;
            continue;
        }
        let at = frame.world_point(p.position + p.axis() * TRAIL_LIFT_MM);
        let starts_stroke = !*was_in_contact;
        *was_in_contact = true;
        if let Some(last) = trails.points.back()
            && !starts_stroke
            && last.at.distance(at) < 0.5
        {
            continue;
        }
        if trails.points.len() == TRAIL_POINTS {
            trails.points.pop_front();
        }
        let depth_mm = shown_depth(&live, &options.0.tool, p);
        trails.points.push_back(TrailPoint {
            at,
            depth_mm,
            starts_stroke,
        });
    }
}

fn draw_trails(trails: Res<Trails>, mut gizmos: Gizmos) {
    if !trails.visible {
        return;
    }
    // Half transparent: the heatmap under the trails is what matters.
    let colour = |d: f32| {
        let [r, g, b, _] = depth_colour(d);
        Color::srgba_u8(r, g, b, 140)
    };
    let mut stroke: Vec<(Vec3, Color)> = Vec::new();
    for p in &trails.points {
        if p.starts_stroke && stroke.len() > 1 {
            gizmos.linestrip_gradient(stroke.drain(..));
        }
        if p.starts_stroke {
            stroke.clear();
        }
        stroke.push((p.at, colour(p.depth_mm)));
    }
    if stroke.len() > 1 {
        gizmos.linestrip_gradient(stroke);
    }
}
