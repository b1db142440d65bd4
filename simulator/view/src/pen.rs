//! The session resource: the pen, the coverage and the demonstration
//! player, polled once a frame.

use std::time::Instant;

use bevy::prelude::*;
use penlab_live::coverage::LiveCoverage;
use penlab_live::link::PenLink;
use penlab_live::session::{Connection, LiveSession};
use penlab_simulator::pose::Pose;
use penlab_simulator::session::StrikeSource;
use penlab_simulator::tool::ToolKind;

use crate::commands::{PenCommands, motor_follows_contact, send_pen_commands};
use crate::options::{DemoStrikes, ViewOptions};
use crate::playback::{DemoPlayer, play_demo};

/// The order of the view's work within a frame.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimSet {
    /// Where the tool is: mouse, keys, demonstration, pen pose.
    Input,
    /// The pen's events and the coverage.
    Session,
    /// Drawing what changed.
    Present,
}

/// The live session.
#[derive(Resource)]
pub struct Live(pub LiveSession);

/// The options the view started with.
#[derive(Resource, Clone)]
pub struct Options(pub ViewOptions);

/// The trainer's settings, changed from the panel and the keys.
#[derive(Resource, Debug, Clone)]
pub struct Settings {
    /// Contact force while pressing, N.
    pub force_n: f32,
    /// Start the motor when the needles touch the skin, stop it when lifted.
    pub motor_follows_contact: bool,
    /// Depth asked of the pen, mm.
    pub depth_mm: f32,
    /// Rate asked of the pen, Hz.
    pub rate_hz: f32,
    /// Tilt of the tool from the surface normal, degrees (mouse input).
    pub tilt_deg: f32,
}

/// Where the tool is this frame.
#[derive(Resource, Debug, Clone, Copy, Default)]
pub struct ToolPose {
    /// The latest pose, if the tool is over the surface.
    pub pose: Option<Pose>,
    /// Whether the needles touch the skin.
    pub contact: bool,
}

/// Poses produced this frame, in time order, for the session.
#[derive(Resource, Debug, Default)]
pub struct PendingPoses(pub Vec<Pose>);

/// Every pose the session took this frame (for trails: a frame may hold a
/// lift and the next stroke's start).
#[derive(Resource, Debug, Default)]
pub struct FramePoses(pub Vec<Pose>);

/// Builds the session from the options and polls it every frame.
pub struct PenPlugin {
    /// The session's settings.
    pub options: ViewOptions,
}

/// Opens the session the options describe: coverage and pen.
pub fn open_session(options: &ViewOptions) -> penlab_simulator::Result<LiveSession> {
    let pen_strikes = options.tool.profile.kind == ToolKind::Pen
        && options.pen.is_some()
        && options
            .demo
            .as_ref()
            .is_none_or(|d| d.strikes == DemoStrikes::Pen);
    let source = match (&options.demo, options.tool.profile.kind) {
        (Some(d), _) if !pen_strikes => match d.strikes {
            // The demonstration plays on its own clock (see
            // [`crate::playback`]): the tool strikes at the script's rate
            // in its time, whatever the playback speed.
            DemoStrikes::Rate(hz) => StrikeSource::Rate(hz),
            DemoStrikes::Recorded | DemoStrikes::Pen => StrikeSource::Events,
        },
        (None, ToolKind::Pen) if !pen_strikes => {
            StrikeSource::Rate(f64::from(options.tool.profile.rate_hz.unwrap_or(100.0)))
        }
        _ => StrikeSource::Events,
    };
    let coverage = LiveCoverage::new(
        options.surface.clone(),
        options.tool.clone(),
        source,
        options.metrics.clone(),
        options.pass_cells,
    )?;
    let pen = if pen_strikes {
        let link = options.link_options();
        options
            .pen
            .clone()
            .map(|transport| PenLink::start_with(transport, link))
    } else {
        None
    };
    Ok(LiveSession::new(coverage, pen, Instant::now()))
}

impl Plugin for PenPlugin {
    fn build(&self, app: &mut App) {
        let options = self.options.clone();
        let mut session = match open_session(&options) {
            Ok(s) => s,
            Err(e) => {
                error!("cannot open the session: {e}");
                app.world_mut().write_message(AppExit::error());
                return;
            }
        };
        if let Some(path) = &options.record
            && let Err(e) = session.start_recording(path)
        {
            error!("cannot record to {}: {e}", path.display());
        }
        let settings = Settings {
            force_n: options.force_n,
            // A demonstration keeps the motor running from start to end:
            // stopping between strokes would lose each ramp-up.
            motor_follows_contact: options.demo.is_none(),
            depth_mm: options.depth_mm,
            rate_hz: options
                .rate_hz
                .or(options.tool.profile.rate_hz)
                .unwrap_or(100.0),
            tilt_deg: 0.0,
        };
        if let Some(demo) = options.demo.clone() {
            match DemoPlayer::start(demo, session.now()) {
                Ok(player) => {
                    app.insert_resource(player);
                }
                Err(e) => error!("cannot play the demonstration: {e}"),
            }
        }
        app.configure_sets(
            Update,
            (SimSet::Input, SimSet::Session, SimSet::Present).chain(),
        )
        .insert_resource(Live(session))
        .insert_resource(Options(options))
        .insert_resource(settings)
        .init_resource::<ToolPose>()
        .init_resource::<PendingPoses>()
        .init_resource::<FramePoses>()
        .init_resource::<Configured>()
        .init_resource::<PenCommands>()
        .add_systems(
            Update,
            (
                motor_follows_contact,
                configure_pen,
                feed_poses,
                play_demo,
                finish_demo,
                send_pen_commands,
                poll_session,
            )
                .chain()
                .in_set(SimSet::Session),
        )
        .add_systems(Last, shutdown_on_exit);
    }
}

/// Whether the start settings went to the pen since it last connected.
#[derive(Resource, Default)]
struct Configured(bool);

/// Sends the start depth and rate once the pen has answered the handshake.
fn configure_pen(
    live: Res<Live>,
    mut settings: ResMut<Settings>,
    player: Option<Res<DemoPlayer>>,
    mut done: ResMut<Configured>,
    mut commands: ResMut<PenCommands>,
) {
    let connected = live.0.pen().connection == Connection::Connected;
    if !connected {
        done.0 = false;
        return;
    }
    if done.0 {
        return;
    }
    done.0 = true;
    let pen = live.0.pen();
    settings.depth_mm = commands.set_depth(pen, settings.depth_mm);
    settings.rate_hz = commands.set_rate(pen, settings.rate_hz);
    if player.is_some_and(|p| p.demo.strikes == DemoStrikes::Pen) {
        commands.start();
    }
}

fn feed_poses(
    mut live: ResMut<Live>,
    mut pending: ResMut<PendingPoses>,
    mut frame: ResMut<FramePoses>,
) {
    frame.0.clear();
    for pose in pending.0.drain(..) {
        live.0.push_pose(pose);
        frame.0.push(pose);
    }
}

/// A finished demonstration hands the tool back to the mouse.
fn finish_demo(
    mut commands: Commands,
    player: Option<Res<DemoPlayer>>,
    mut live: ResMut<Live>,
    mut tool: ResMut<ToolPose>,
    mut pen: ResMut<PenCommands>,
) {
    let Some(player) = player else {
        return;
    };
    if !player.finished() {
        return;
    }
    if let Some(p) = tool.pose.filter(|_| tool.contact) {
        // Lifted where the demonstration ended, on its clock.
        let lifted = Pose {
            t: p.t,
            force_n: 0.0,
            ..p
        };
        live.0.push_pose(lifted);
        tool.pose = Some(lifted);
    }
    tool.contact = false;
    if player.demo.strikes == DemoStrikes::Pen {
        pen.stop();
    }
    live.0.end_demo();
    info!("demonstration {} finished", player.demo.name);
    commands.insert_resource(player.ended());
    commands.remove_resource::<DemoPlayer>();
}

fn poll_session(mut live: ResMut<Live>, tool: Res<ToolPose>, settings: Res<Settings>) {
    let force = if tool.contact { settings.force_n } else { 0.0 };
    live.0.set_contact_force(force);
    live.0.poll();
}

fn shutdown_on_exit(mut exits: MessageReader<AppExit>, live: Option<ResMut<Live>>) {
    if exits.read().next().is_some()
        && let Some(mut live) = live
    {
        // The motor stops before the window goes.
        live.0.shutdown();
    }
}
