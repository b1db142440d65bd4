//! Where the tool is and what the trainer asks of the pen: the mouse on the
//! surface (pressed = needles on), keys for depth and rate, a scripted
//! demonstration, or the pose a tracked pen reports.
//!
//! Keys: ↑/↓ depth, ←/→ rate, Space motor on/off, E emergency stop,
//! H heatmap mode, T trails.

use bevy::prelude::*;
use bevy::window::{PrimaryWindow, WindowEvent};
use penlab_live::coverage::HeatmapMode;
use penlab_simulator::pose::{Pose, orientation_facing};
use penlab_simulator::session::Event;
use penlab_simulator::tool::ToolKind;

use crate::camera::OrbitCamera;
use crate::commands::PenCommands;
use crate::pen::{Live, Options, PendingPoses, Settings, SimSet, ToolPose};
use crate::playback::DemoPlayer;
use crate::scene::SurfaceFrame;
use crate::tool::Trails;

/// Mouse, keys, demonstrations and tracked pens.
pub struct InputPlugin;

impl Plugin for InputPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<MouseTrack>().add_systems(
            Update,
            (track_pen, follow_mouse, keys)
                .chain()
                .in_set(SimSet::Input),
        );
    }
}

/// The mouse's last point on the surface, for the direction of travel,
/// and when the last frame's motion ended.
#[derive(Resource, Debug, Default)]
struct MouseTrack {
    last: Option<Vec3>,
    travel: Option<Vec3>,
    /// Session time the previous frame's mouse input was taken at, s.
    last_frame_t: Option<f64>,
    /// The left button's state after the last window event seen.
    held: bool,
    /// The shortest gap between motion events seen, s: the mouse's report
    /// interval (None until a frame has shown it).
    event_gap: Option<f64>,
}

/// A mouse's report interval until one is seen, s (USB mice report at
/// 125 Hz or faster).
const DEFAULT_EVENT_GAP_S: f64 = 1.0 / 125.0;

/// Session times for `n` cursor motion events that arrived between frames
/// at `since` and `now`. winit gives no timestamps; events arrive in order,
/// one a report interval (`gap`) while the mouse moves. They are spread
/// evenly over the interval, but never further apart than `gap`: a mouse
/// that stopped mid-frame sent them all early, not across the whole frame.
pub fn motion_times(since: f64, now: f64, n: usize, gap: f64) -> impl Iterator<Item = f64> {
    let span = (now - since).max(0.0);
    let step = if n == 0 {
        0.0
    } else {
        (span / n as f64).min(gap)
    };
    (1..=n).map(move |k| since + step * k as f64)
}

fn track_pen(
    player: Option<Res<DemoPlayer>>,
    mut live: ResMut<Live>,
    mut pending: ResMut<PendingPoses>,
    mut tool: ResMut<ToolPose>,
) {
    let poses = live.0.take_pen_poses();
    // A demonstration has the tool; a tracked pen otherwise.
    if player.is_some() {
        return;
    }
    if let Some(last) = poses.last() {
        tool.pose = Some(*last);
        tool.contact = last.force_n > 0.0;
    }
    pending.0.extend(poses);
}

type EguiInput<'a> = Option<Res<'a, bevy_egui::input::EguiWantsInput>>;

/// What the mouse did between two frames, in the order it happened.
enum MouseInput {
    /// The cursor moved here (window pixels).
    Motion(Vec2),
    /// The left button went down (true) or up.
    Button(bool),
}

/// Every cursor motion event since the last frame becomes a pose with its
/// own time, and a press or release falls between the motions it came
/// between (winit's window events keep their order), so a stroke keeps its
/// shape and its ends however few frames are drawn (a software-rendered
/// window draws a few a second).
#[allow(clippy::too_many_arguments)]
fn follow_mouse(
    player: Option<Res<DemoPlayer>>,
    windows: Query<(Entity, &Window), With<PrimaryWindow>>,
    cameras: Query<(&Camera, &GlobalTransform), With<OrbitCamera>>,
    buttons: Res<ButtonInput<MouseButton>>,
    mut window_events: MessageReader<WindowEvent>,
    egui: EguiInput,
    frame: Res<SurfaceFrame>,
    settings: Res<Settings>,
    options: Res<Options>,
    mut live: ResMut<Live>,
    mut track: ResMut<MouseTrack>,
    mut pending: ResMut<PendingPoses>,
    mut tool: ResMut<ToolPose>,
) {
    let now = live.0.now();
    let since = track.last_frame_t.replace(now).unwrap_or(now);
    let Ok((window_id, window)) = windows.single() else {
        window_events.clear();
        return;
    };
    let inputs: Vec<MouseInput> = window_events
        .read()
        .filter_map(|e| match e {
            WindowEvent::CursorMoved(m) if m.window == window_id => {
                Some(MouseInput::Motion(m.position))
            }
            WindowEvent::MouseButtonInput(b)
                if b.window == window_id && b.button == MouseButton::Left =>
            {
                Some(MouseInput::Button(b.state.is_pressed()))
            }
            _ => None,
        })
        .collect();
    let (Ok((camera, cam_transform)), None) = (cameras.single(), player) else {
        return;
    };
    let over_panel = egui.is_some_and(|e| e.wants_pointer_input() || e.is_pointer_over_area());
    let motions = inputs
        .iter()
        .filter(|i| matches!(i, MouseInput::Motion(_)))
        .count();
    let gap = track.event_gap.unwrap_or(DEFAULT_EVENT_GAP_S);
    if motions >= 4 {
        // A frame of steady motion shows the report interval.
        let seen = (now - since) / motions as f64;
        if seen > 0.0 {
            track.event_gap = Some(seen.min(gap));
        }
    }
    let mut times = motion_times(since, now, motions, gap);
    let has_button = inputs.iter().any(|i| matches!(i, MouseInput::Button(_)));
    // Without button events this frame, the button is as the input state
    // says (it may have changed where no window event shows it).
    let mut held = if has_button {
        track.held
    } else {
        buttons.pressed(MouseButton::Left)
    };
    let mut sampler = Sampler {
        camera,
        cam_transform,
        frame: &frame,
        settings: &settings,
        over_panel,
    };
    let mut t = since;
    if inputs.is_empty() {
        // No motion: the cursor where it rests (a press or release in place).
        sampler.sample(
            now,
            window.cursor_position(),
            held,
            &mut live,
            &mut track,
            &mut pending,
            &mut tool,
        );
    }
    for input in inputs {
        match input {
            MouseInput::Motion(position) => {
                t = times.next().unwrap_or(now);
                sampler.sample(
                    t,
                    Some(position),
                    held,
                    &mut live,
                    &mut track,
                    &mut pending,
                    &mut tool,
                );
            }
            MouseInput::Button(down) => {
                held = down;
                if !down && tool.contact {
                    lift(&mut tool, &mut pending, t);
                } else if down && let Some(p) = tool.pose.filter(|_| !over_panel) {
                    // The needles touch where the cursor is, when pressed.
                    let pose = Pose {
                        t,
                        force_n: settings.force_n,
                        ..p
                    };
                    pending.0.push(pose);
                    tool.pose = Some(pose);
                    tool.contact = true;
                }
            }
        }
    }
    track.held = held;
    // A stamp strikes once per press.
    if buttons.just_pressed(MouseButton::Left)
        && options.0.tool.profile.kind == ToolKind::Stamp
        && let Some(pose) = tool.pose.filter(|_| tool.contact)
    {
        pending.0.push(pose);
        live.0.push_pose(pose);
        live.0.push_event(&Event::Strike {
            t: pose.t,
            depth_mm: None,
        });
    }
}

/// Turns cursor positions into poses on the surface.
struct Sampler<'a> {
    camera: &'a Camera,
    cam_transform: &'a GlobalTransform,
    frame: &'a SurfaceFrame,
    settings: &'a Settings,
    over_panel: bool,
}

impl Sampler<'_> {
    /// The tool at `cursor` at time `t`, pressed or not: a pose for the
    /// session, or a lift when the cursor leaves the surface.
    #[allow(clippy::too_many_arguments)]
    fn sample(
        &mut self,
        t: f64,
        cursor: Option<Vec2>,
        pressed: bool,
        live: &mut Live,
        track: &mut MouseTrack,
        pending: &mut PendingPoses,
        tool: &mut ToolPose,
    ) {
        let cursor = cursor.filter(|_| !self.over_panel);
        let ray = cursor.and_then(|c| self.camera.viewport_to_world(self.cam_transform, c).ok());
        let hit = ray.and_then(|ray| {
            let (origin, dir) = self.frame.engine_ray(ray.origin, *ray.direction);
            let surface = live.0.coverage.session().surface();
            surface.raycast(origin, dir, 1.0e6).map(|hit| {
                let normal = surface.point_at_uv(hit.uv).map_or(Vec3::Z, |p| p.normal);
                (origin + dir * hit.t, normal)
            })
        });
        let Some((at, normal)) = hit else {
            if tool.contact {
                lift(tool, pending, t);
            }
            if ray.is_some() {
                tool.pose = None;
            }
            track.last = None;
            return;
        };
        if let Some(last) = track.last {
            let step = at - last;
            if step.length() > 0.2 {
                track.travel = Some(step.normalize());
            }
        }
        track.last = Some(at);
        let travel = track.travel.unwrap_or(Vec3::Y);
        let tilt = Quat::from_rotation_x(self.settings.tilt_deg.to_radians());
        let pose = Pose {
            t,
            position: at,
            orientation: orientation_facing(normal, travel) * tilt,
            force_n: if pressed { self.settings.force_n } else { 0.0 },
            depth_mm: self.settings.depth_mm,
        };
        let moved = tool
            .pose
            .is_none_or(|p| p.position.distance(pose.position) > 0.01);
        if moved || pressed != tool.contact {
            pending.0.push(pose);
        }
        tool.pose = Some(pose);
        tool.contact = pressed;
    }
}

fn lift(tool: &mut ToolPose, pending: &mut PendingPoses, now: f64) {
    if let Some(p) = tool.pose {
        let lifted = Pose {
            t: now,
            force_n: 0.0,
            ..p
        };
        pending.0.push(lifted);
        tool.pose = Some(lifted);
    }
    tool.contact = false;
}

type EguiKeys<'a> = Option<Res<'a, bevy_egui::input::EguiWantsInput>>;

fn keys(
    keys: Res<ButtonInput<KeyCode>>,
    egui: EguiKeys,
    mut live: ResMut<Live>,
    mut settings: ResMut<Settings>,
    mut trails: ResMut<Trails>,
    mut commands: ResMut<PenCommands>,
) {
    if egui.is_some_and(|e| e.wants_keyboard_input()) {
        return;
    }
    let caps = live.0.pen().limits.clone();
    let depth_step = caps
        .as_ref()
        .map_or(0.25, |c| f32::from(c.depth_step_um.max(50)) / 1000.0);
    let rate_step = caps
        .as_ref()
        .map_or(5.0, |c| (f32::from(c.rate_step_chz) / 100.0).max(1.0));
    let pen = live.0.pen();
    if keys.just_pressed(KeyCode::ArrowUp) {
        settings.depth_mm = commands.set_depth(pen, settings.depth_mm + depth_step);
    }
    if keys.just_pressed(KeyCode::ArrowDown) {
        settings.depth_mm = commands.set_depth(pen, settings.depth_mm - depth_step);
    }
    if keys.just_pressed(KeyCode::ArrowRight) {
        settings.rate_hz = commands.set_rate(pen, settings.rate_hz + rate_step);
    }
    if keys.just_pressed(KeyCode::ArrowLeft) {
        settings.rate_hz = commands.set_rate(pen, settings.rate_hz - rate_step);
    }
    if keys.just_pressed(KeyCode::Space) {
        settings.motor_follows_contact = false;
        commands.toggle_motor(pen);
    }
    if keys.just_pressed(KeyCode::KeyE) {
        commands.emergency_stop();
    }
    if keys.just_pressed(KeyCode::KeyH) {
        let next = match live.0.coverage.mode() {
            HeatmapMode::Density => HeatmapMode::Depth,
            HeatmapMode::Depth => HeatmapMode::Density,
        };
        live.0.coverage.set_mode(next);
    }
    if keys.just_pressed(KeyCode::KeyT) {
        trails.visible = !trails.visible;
    }
}
