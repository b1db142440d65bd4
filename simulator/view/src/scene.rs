//! The skin surface with its heatmap texture, and the lights.
//!
//! The coverage engine works in millimetres with +z out of a flat pad;
//! Bevy is y-up. Everything simulated sits under one root entity whose
//! transform turns the engine's frame into Bevy's, so tool poses and mesh
//! positions are used as they are, in mm.

use bevy::asset::RenderAssetUsages;
use bevy::image::ImageSampler;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat, TextureUsages};

use penlab_simulator::snapshot::{viewing_direction, work_direction};

use crate::pen::{Live, Options};
use crate::render_profile::RenderProfile;

/// The engine's frame in Bevy's world.
#[derive(Resource, Debug, Clone, Copy)]
pub struct SurfaceFrame {
    /// The root entity everything simulated hangs from.
    pub root: Entity,
    /// Engine (mm, z out of the pad) → world.
    pub to_world: Transform,
    /// Centre of the surface's bounds, engine frame.
    pub centre: Vec3,
    /// Radius of the surface's bounds, mm.
    pub radius: f32,
    /// Where a viewer first looks from, world, unit (see [`viewing_direction`]).
    pub view_from: Vec3,
}

impl SurfaceFrame {
    /// A point of the engine's frame in the world.
    pub fn world_point(&self, p: Vec3) -> Vec3 {
        self.to_world.transform_point(p)
    }

    /// A world ray in the engine's frame: (origin, unit direction).
    pub fn engine_ray(&self, origin: Vec3, dir: Vec3) -> (Vec3, Vec3) {
        let inv = self.to_world.compute_affine().inverse();
        (
            inv.transform_point3(origin),
            inv.transform_vector3(dir).normalize_or_zero(),
        )
    }
}

/// The heatmap texture on the skin.
#[derive(Resource, Debug, Clone)]
pub struct HeatmapImage(pub Handle<Image>);

/// Marks the skin mesh.
#[derive(Component)]
pub struct Skin;

/// Builds the skin surface and lights.
pub struct ScenePlugin;

impl Plugin for ScenePlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(ClearColor(Color::srgb(0.13, 0.14, 0.16)))
            .insert_resource(GlobalAmbientLight {
                color: Color::WHITE,
                brightness: AMBIENT,
                ..default()
            })
            .add_systems(Startup, spawn_scene);
    }
}

/// The engine's mesh as a Bevy mesh (positions mm, engine UVs).
pub fn skin_mesh(surface: &penlab_simulator::surface::Surface) -> Mesh {
    let m = &surface.mesh;
    let positions: Vec<[f32; 3]> = m.positions.iter().map(|p| p.to_array()).collect();
    let normals: Vec<[f32; 3]> = surface
        .vertex_normals()
        .iter()
        .map(|n| n.to_array())
        .collect();
    let uvs: Vec<[f32; 2]> = m.uvs.iter().map(|uv| uv.to_array()).collect();
    let indices: Vec<u32> = m.triangles.iter().flatten().copied().collect();
    Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::RENDER_WORLD,
    )
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, positions)
    .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, normals)
    .with_inserted_attribute(Mesh::ATTRIBUTE_UV_0, uvs)
    .with_inserted_indices(Indices::U32(indices))
}

/// The heatmap as a texture: the GPU keeps it, later changes arrive as
/// patches ([`crate::upload`]) rather than a new upload of the whole.
pub fn heatmap_image(width: u32, height: u32, rgba: &[[u8; 4]]) -> Image {
    let data: Vec<u8> = rgba.iter().flatten().copied().collect();
    let mut image = Image::new(
        Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        data,
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::RENDER_WORLD,
    );
    image.texture_descriptor.usage |= TextureUsages::COPY_DST;
    image.sampler = ImageSampler::linear();
    image
}

/// The lights, as directions towards them and strengths, in a frame
/// where +z is towards the viewer and +y up: a warm key from above and to
/// the viewer's left, a cool fill from the right, and ambient light.
/// How many of a demonstration's first events decide which side of the
/// surface the camera looks at first (a recording is not read whole).
const WORK_SAMPLE_EVENTS: usize = 100_000;

const LIGHTS: [(Vec3, f32, [f32; 3]); 2] = [
    (Vec3::new(-0.45, 0.75, 0.5), 7_000.0, [1.0, 0.96, 0.9]),
    (Vec3::new(0.7, 0.1, 0.7), 2_200.0, [0.85, 0.9, 1.0]),
];
/// Ambient light's brightness.
const AMBIENT: f32 = 600.0;
/// Illuminance that a baked vertex takes as full light.
const BAKED_FULL_LUX: f32 = 7_500.0;

/// The rotation that takes the lights' viewer frame to the world for a
/// viewer looking from `view_from` (world, unit).
fn viewer_frame(view_from: Vec3) -> Quat {
    let back = view_from.normalize_or(Vec3::Z);
    let up = if back.y.abs() > 0.99 {
        Vec3::NEG_Z
    } else {
        Vec3::Y
    };
    let right = up.cross(back).normalize();
    let up = back.cross(right);
    Quat::from_mat3(&Mat3::from_cols(right, up, back))
}

/// Lambert lighting of each vertex under [`LIGHTS`] and the ambient light,
/// as linear vertex colours: the software profile's skin is unlit and
/// carries this instead of per-pixel shading.
pub fn baked_lighting(normals_world: &[Vec3], view_from: Vec3) -> Vec<[f32; 4]> {
    let frame = viewer_frame(view_from);
    let lights: Vec<(Vec3, f32, [f32; 3])> = LIGHTS
        .iter()
        .map(|(d, lux, c)| (frame * d.normalize(), *lux / BAKED_FULL_LUX, *c))
        .collect();
    let ambient = AMBIENT / 1_500.0;
    normals_world
        .iter()
        .map(|n| {
            let mut rgb = [ambient; 3];
            for (d, k, c) in &lights {
                let lambert = n.dot(*d).max(0.0) * k;
                for ch in 0..3 {
                    rgb[ch] += lambert * c[ch];
                }
            }
            [rgb[0].min(1.2), rgb[1].min(1.2), rgb[2].min(1.2), 1.0]
        })
        .collect()
}

impl SurfaceFrame {
    /// The frame of `surface` under `root`: engine z (out of a pad's skin,
    /// up a head) becomes world y, the surface's centre the origin.
    pub fn of(
        surface: &penlab_simulator::surface::Surface,
        root: Entity,
        work: Option<Vec3>,
    ) -> Self {
        let (lo, hi) = surface.mesh.positions.iter().fold(
            (Vec3::splat(f32::MAX), Vec3::splat(f32::MIN)),
            |(lo, hi), p| (lo.min(*p), hi.max(*p)),
        );
        let centre = (lo + hi) / 2.0;
        let radius = ((hi - lo).length() / 2.0).max(1.0);
        let rotation = Quat::from_rotation_x(-std::f32::consts::FRAC_PI_2);
        let to_world = Transform {
            translation: -(rotation * centre),
            rotation,
            scale: Vec3::ONE,
        };
        SurfaceFrame {
            root,
            to_world,
            centre,
            radius,
            view_from: (rotation * viewing_direction(&surface.mesh, work)).normalize_or(Vec3::Y),
        }
    }
}

fn spawn_scene(
    mut commands: Commands,
    live: Res<Live>,
    options: Res<Options>,
    profile: Option<Res<RenderProfile>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut images: ResMut<Assets<Image>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let profile = profile.map_or(RenderProfile::Full, |p| *p);
    let surface = &options.0.surface;
    let (w, h) = live.0.coverage.size();
    let image = images.add(heatmap_image(w, h, live.0.coverage.rgba()));
    commands.insert_resource(HeatmapImage(image.clone()));

    let root = commands.spawn_empty().id();
    let work = options
        .0
        .demo
        .as_ref()
        .and_then(|d| d.events.first(WORK_SAMPLE_EVENTS).ok())
        .and_then(|events| work_direction(&events));
    let frame = SurfaceFrame::of(surface, root, work);
    commands.entity(root).insert((
        Name::new("engine frame"),
        frame.to_world,
        Visibility::default(),
    ));
    let mut mesh = skin_mesh(surface);
    let material = match profile {
        // Skin: a soft sheen, no mirror; the heatmap lies in the texture.
        RenderProfile::Full => StandardMaterial {
            base_color_texture: Some(image),
            perceptual_roughness: 0.55,
            reflectance: 0.4,
            double_sided: true,
            cull_mode: None,
            ..default()
        },
        RenderProfile::Software => {
            let normals: Vec<Vec3> = surface
                .vertex_normals()
                .iter()
                .map(|n| frame.to_world.rotation * *n)
                .collect();
            mesh.insert_attribute(
                Mesh::ATTRIBUTE_COLOR,
                baked_lighting(&normals, frame.view_from),
            );
            StandardMaterial {
                base_color_texture: Some(image),
                unlit: true,
                double_sided: true,
                cull_mode: None,
                ..default()
            }
        }
    };
    commands.entity(root).with_children(|c| {
        c.spawn((
            Name::new("skin"),
            Skin,
            Mesh3d(meshes.add(mesh)),
            MeshMaterial3d(materials.add(material)),
        ));
    });
    let lights = viewer_frame(frame.view_from);
    for (k, (towards, lux, [r, g, b])) in LIGHTS.iter().enumerate() {
        let towards = lights * towards.normalize();
        commands.spawn((
            Name::new(if k == 0 { "key light" } else { "fill light" }),
            DirectionalLight {
                illuminance: *lux,
                color: Color::linear_rgb(*r, *g, *b),
                shadow_maps_enabled: false,
                ..default()
            },
            Transform::from_translation(towards).looking_at(Vec3::ZERO, Vec3::Y),
        ));
    }
    commands.insert_resource(frame);
}

#[cfg(test)]
mod tests {
    use penlab_simulator::surfaces::{self, ZoneLimits};

    use super::*;

    fn frame(name: &str) -> SurfaceFrame {
        let limits = ZoneLimits::shipped().unwrap();
        let surface = surfaces::builtin(name, &limits, 64).unwrap();
        SurfaceFrame::of(&surface, Entity::PLACEHOLDER, None)
    }

    fn worked(name: &str, axis: Vec3) -> Vec3 {
        let limits = ZoneLimits::shipped().unwrap();
        let surface = surfaces::builtin(name, &limits, 64).unwrap();
        viewing_direction(&surface.mesh, Some(axis))
    }

    #[test]
    fn a_closed_surface_is_seen_from_the_side_being_worked() {
        // An arm worked from below is seen from below, not from above.
        let arm = worked("forearm", Vec3::new(0.0, 0.0, -1.0));
        assert!(arm.z < -0.99, "{arm:?}");
        // A head worked under the chin is still seen from in front.
        let head = worked("face", Vec3::new(0.0, 0.6, -0.8));
        assert!(head.y > 0.99, "{head:?}");
        // A pad has a skin side whatever the tool does.
        let pad = worked("flat-pad", Vec3::new(1.0, 0.0, 0.0));
        assert!(pad.z > 0.99, "{pad:?}");
    }

    #[test]
    fn a_pad_is_seen_from_above_and_the_head_from_in_front_of_its_face() {
        assert!(frame("flat-pad").view_from.y > 0.99);
        assert!(frame("forearm").view_from.y > 0.7);
        // The head faces the engine's +y, which is the world's -z.
        let head = frame("face").view_from;
        assert!(head.z < -0.99, "{head:?}");
    }

    #[test]
    fn baked_light_is_brightest_facing_the_key_light_and_never_black() {
        let view_from = Vec3::Z;
        let key = viewer_frame(view_from) * LIGHTS[0].0.normalize();
        let lit = baked_lighting(&[key, -key, Vec3::Z], view_from);
        assert!(lit[0][0] > lit[2][0] && lit[2][0] > lit[1][0], "{lit:?}");
        assert!(lit[1][0] > 0.2, "the ambient light reaches the far side");
    }
}
