//! An orbit camera: right-drag orbits, middle-drag pans, the wheel zooms,
//! `Home` resets. The left button belongs to the needles.

use bevy::camera::RenderTarget;
use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll, MouseScrollUnit};
use bevy::prelude::*;

use bevy::core_pipeline::tonemapping::Tonemapping;

use crate::capture::Offscreen;
use crate::pen::SimSet;
use crate::render_profile::RenderProfile;
use crate::scene::SurfaceFrame;

/// Where the camera looks from.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct OrbitCamera {
    /// The point orbited, world.
    pub focus: Vec3,
    /// Around the vertical, radians.
    pub yaw: f32,
    /// Above the horizon, radians.
    pub pitch: f32,
    /// From the focus, world units (mm).
    pub distance: f32,
}

impl OrbitCamera {
    /// The start view of a surface, all of it in sight: a surface facing
    /// up (a pad, an arm) from the front and above, a head from in front
    /// of its face, a little above its eyes.
    pub fn framing(frame: &SurfaceFrame) -> Self {
        let d = frame.view_from;
        if d.y > 0.7 {
            return OrbitCamera {
                focus: Vec3::ZERO,
                yaw: 0.0,
                pitch: 0.95,
                distance: frame.radius * 2.6,
            };
        }
        OrbitCamera {
            focus: Vec3::ZERO,
            yaw: d.x.atan2(d.z),
            pitch: d.y.asin().clamp(0.12, 1.2),
            distance: frame.radius * 2.4,
        }
    }

    /// The camera transform for this orbit.
    pub fn transform(&self) -> Transform {
        let rotation = Quat::from_euler(EulerRot::YXZ, self.yaw, -self.pitch, 0.0);
        Transform::from_translation(self.focus + rotation * Vec3::Z * self.distance)
            .looking_at(self.focus, Vec3::Y)
    }
}

/// Spawns and steers the camera.
pub struct OrbitCameraPlugin;

impl Plugin for OrbitCameraPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(PostStartup, spawn_camera)
            .add_systems(Update, steer.in_set(SimSet::Input));
    }
}

fn spawn_camera(
    mut commands: Commands,
    frame: Res<SurfaceFrame>,
    offscreen: Option<Res<Offscreen>>,
    profile: Option<Res<RenderProfile>>,
    mut images: ResMut<Assets<Image>>,
) {
    let profile = profile.map_or(RenderProfile::Full, |p| *p);
    let orbit = OrbitCamera::framing(&frame);
    let mut camera = commands.spawn((
        Name::new("camera"),
        Camera3d::default(),
        Projection::Perspective(PerspectiveProjection {
            fov: 0.7,
            near: 1.0,
            far: 20_000.0,
            ..default()
        }),
        orbit.transform(),
        orbit,
        profile.msaa(),
    ));
    if profile == RenderProfile::Software {
        // Tonemapping is a full-screen pass with a 3D lookup per pixel.
        camera.insert(Tonemapping::None);
    }
    if let Some(offscreen) = offscreen {
        let target = crate::capture::render_target_image(offscreen.width, offscreen.height);
        let handle = images.add(target);
        camera.insert(RenderTarget::Image(handle.clone().into()));
        commands.insert_resource(crate::capture::OffscreenTarget(handle));
    }
}

type EguiInput<'a> = Option<Res<'a, bevy_egui::input::EguiWantsInput>>;

fn steer(
    buttons: Res<ButtonInput<MouseButton>>,
    keys: Res<ButtonInput<KeyCode>>,
    motion: Res<AccumulatedMouseMotion>,
    scroll: Res<AccumulatedMouseScroll>,
    egui: EguiInput,
    frame: Res<SurfaceFrame>,
    mut cameras: Query<(&mut OrbitCamera, &mut Transform)>,
) {
    let over_panel = egui.is_some_and(|e| e.wants_pointer_input());
    for (mut orbit, mut transform) in &mut cameras {
        let before = *orbit;
        if keys.just_pressed(KeyCode::Home) {
            *orbit = OrbitCamera::framing(&frame);
        }
        if !over_panel {
            let d = motion.delta;
            if buttons.pressed(MouseButton::Right) {
                orbit.yaw -= d.x * 0.006;
                orbit.pitch = (orbit.pitch + d.y * 0.006).clamp(0.05, 1.55);
            }
            if buttons.pressed(MouseButton::Middle) {
                let right = transform.rotation * Vec3::X;
                let up = transform.rotation * Vec3::Y;
                let k = orbit.distance * 0.0015;
                orbit.focus += (-right * d.x + up * d.y) * k;
            }
            let lines = match scroll.unit {
                MouseScrollUnit::Line => scroll.delta.y,
                MouseScrollUnit::Pixel => scroll.delta.y / 40.0,
            };
            if lines != 0.0 {
                let max = frame.radius * 12.0;
                orbit.distance = (orbit.distance * 0.88f32.powf(lines)).clamp(15.0, max);
            }
        }
        if *orbit != before {
            *transform = orbit.transform();
        }
    }
}
