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

use crate::pen::{Live, Options};

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
                brightness: 900.0,
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

fn spawn_scene(
    mut commands: Commands,
    live: Res<Live>,
    options: Res<Options>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut images: ResMut<Assets<Image>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let surface = &options.0.surface;
    let (w, h) = live.0.coverage.size();
    let image = images.add(heatmap_image(w, h, live.0.coverage.rgba()));
    commands.insert_resource(HeatmapImage(image.clone()));

    let (lo, hi) = surface.mesh.positions.iter().fold(
        (Vec3::splat(f32::MAX), Vec3::splat(f32::MIN)),
        |(lo, hi), p| (lo.min(*p), hi.max(*p)),
    );
    let centre = (lo + hi) / 2.0;
    let radius = ((hi - lo).length() / 2.0).max(1.0);
    // Engine z (out of the skin) becomes world y; centred on the surface.
    let rotation = Quat::from_rotation_x(-std::f32::consts::FRAC_PI_2);
    let to_world = Transform {
        translation: -(rotation * centre),
        rotation,
        scale: Vec3::ONE,
    };
    let root = commands
        .spawn((Name::new("engine frame"), to_world, Visibility::default()))
        .id();
    commands.entity(root).with_children(|c| {
        c.spawn((
            Name::new("skin"),
            Skin,
            Mesh3d(meshes.add(skin_mesh(surface))),
            MeshMaterial3d(materials.add(StandardMaterial {
                base_color_texture: Some(image),
                perceptual_roughness: 0.75,
                reflectance: 0.25,
                double_sided: true,
                cull_mode: None,
                ..default()
            })),
        ));
    });
    commands.insert_resource(SurfaceFrame {
        root,
        to_world,
        centre,
        radius,
    });
    commands.spawn((
        Name::new("key light"),
        DirectionalLight {
            illuminance: 6_000.0,
            shadow_maps_enabled: false,
            ..default()
        },
        Transform::from_xyz(0.4, 1.0, 0.6).looking_at(Vec3::ZERO, Vec3::Y),
    ));
}
