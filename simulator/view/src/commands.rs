//! The one owner of what the view commands the pen.
//!
//! Every command the view sends (the panel's buttons and sliders, the keys,
//! "motor follows contact", a demonstration's start and end) is queued on
//! [`PenCommands`] and leaves for the pen from [`send_pen_commands`] alone,
//! once a frame, in order. The owner remembers what it has commanded, so
//! that the rule that matters does not depend on what the pen last said:
//! **lifting after a `Start` the view sent always sends `Stop`**, even when
//! the lift comes before the pen's `Status` says it runs (a quick tap).
//!
//! The link's own rules cover what the view cannot: the closing `Stop` on
//! exit, and `Stop` when the view stops polling (see `penlab_live::link`).

use bevy::prelude::*;
use penlab_host::env::EnvCommand;
use penlab_live::link::LinkCommand;
use penlab_live::session::{Connection, LiveSession, PenView};

use crate::pen::{Live, Settings, ToolPose};

/// What the view has commanded the pen, and what it is about to.
#[derive(Resource, Debug, Default)]
pub struct PenCommands {
    queue: Vec<LinkCommand>,
    /// The view queued `Start` and no `Stop` (or emergency stop) since.
    motor_commanded: bool,
    /// Whether the needles touched the skin at the last look.
    contact: bool,
}

impl PenCommands {
    /// Starts the motor.
    pub fn start(&mut self) {
        self.push(LinkCommand::Start);
    }

    /// Stops the motor.
    pub fn stop(&mut self) {
        self.push(LinkCommand::Stop);
    }

    /// Stops the motor at once (latched until a new handshake).
    pub fn emergency_stop(&mut self) {
        self.push(LinkCommand::EmergencyStop);
    }

    /// Stops the motor if it runs or the view started it, else starts it.
    pub fn toggle_motor(&mut self, pen: &PenView) {
        if self.motor_commanded || pen.running() {
            self.stop();
        } else {
            self.start();
        }
    }

    /// Asks for `depth_mm`, snapped to what the pen declares (the view
    /// never asks for what the pen does not declare); returns the depth
    /// asked.
    pub fn set_depth(&mut self, pen: &PenView, depth_mm: f32) -> f32 {
        match &pen.limits {
            Some(limits) => {
                let um = limits.nearest_depth(f64::from(depth_mm) * 1000.0);
                self.push(LinkCommand::SetDepth { depth_um: um });
                f32::from(um) / 1000.0
            }
            None => depth_mm.clamp(0.0, 5.0),
        }
    }

    /// Asks for `rate_hz` (snapped); returns the rate asked.
    pub fn set_rate(&mut self, pen: &PenView, rate_hz: f32) -> f32 {
        match &pen.limits {
            Some(limits) if limits.rate_settings() > 1 => {
                let chz = limits.nearest_rate(f64::from(rate_hz) * 100.0);
                self.push(LinkCommand::SetRate { rate_chz: chz });
                f32::from(chz) / 100.0
            }
            Some(limits) => f32::from(limits.rate_min_chz) / 100.0,
            None => rate_hz.clamp(1.0, 1000.0),
        }
    }

    /// Changes the mock pen's world (faults, cartridges).
    pub fn env(&mut self, command: EnvCommand) {
        self.push(LinkCommand::Env(command));
    }

    /// A new handshake (clears a latched emergency stop).
    pub fn hello(&mut self) {
        self.push(LinkCommand::Hello);
    }

    /// "Motor follows contact", as a foot pedal: touching the skin starts
    /// the motor, lifting stops it. A lift after a `Start` the view sent
    /// always sends `Stop`, whatever the pen last said.
    pub fn follow_contact(&mut self, contact: bool, pen: &PenView) {
        if contact == self.contact {
            return;
        }
        self.contact = contact;
        if contact {
            if pen.connection == Connection::Connected && !pen.running() && !self.motor_commanded {
                self.start();
            }
        } else if self.motor_commanded || pen.running() {
            self.stop();
        }
    }

    /// Whether the view has commanded `Start` and not `Stop` since.
    pub fn motor_commanded(&self) -> bool {
        self.motor_commanded
    }

    /// Commands queued and not yet sent, oldest first.
    pub fn pending(&self) -> &[LinkCommand] {
        &self.queue
    }

    fn push(&mut self, command: LinkCommand) {
        match command {
            LinkCommand::Start => self.motor_commanded = true,
            LinkCommand::Stop | LinkCommand::EmergencyStop => self.motor_commanded = false,
            _ => {}
        }
        self.queue.push(command);
    }

    /// Sends everything queued, in order: the only way the view's commands
    /// reach the pen.
    fn send_to(&mut self, live: &mut LiveSession) {
        for command in self.queue.drain(..) {
            live.command(command);
        }
    }
}

/// With "motor follows contact" on, the tool's contact drives the motor.
pub(crate) fn motor_follows_contact(
    tool: Res<ToolPose>,
    settings: Res<Settings>,
    live: Res<Live>,
    mut commands: ResMut<PenCommands>,
) {
    if settings.motor_follows_contact {
        commands.follow_contact(tool.contact, live.0.pen());
    } else {
        // Off: contact is still tracked, so that turning it on mid-press
        // does not take the press for a new touch.
        commands.contact = tool.contact;
    }
}

/// Sends the queued commands to the pen, before the session is polled.
pub fn send_pen_commands(mut commands: ResMut<PenCommands>, mut live: ResMut<Live>) {
    commands.send_to(&mut live.0);
}
