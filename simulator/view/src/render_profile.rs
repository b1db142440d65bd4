//! How much the view asks of the renderer. On a software adapter (Mesa's
//! lavapipe on a VM or a machine without a GPU) every pixel is shaded on
//! the CPU, so the view switches to a cheaper profile: no MSAA, no
//! tonemapping pass, and an unlit skin whose lighting is baked into its
//! vertices once instead of shaded per pixel every frame.
//!
//! `PENLAB_RENDER=full|software` (or [`RenderChoice`] inserted by the
//! caller) overrides what the adapter suggests.

use bevy::prelude::*;
use bevy::render::renderer::RenderAdapterInfo;

/// The environment variable that picks the profile: `full`, `software` or
/// `auto` (the default).
pub const RENDER_ENV: &str = "PENLAB_RENDER";

/// What the caller asks for.
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RenderChoice {
    /// By the adapter: software adapters get [`RenderProfile::Software`].
    #[default]
    Auto,
    /// Always the full profile.
    Full,
    /// Always the software profile.
    Software,
}

impl RenderChoice {
    /// The choice `PENLAB_RENDER` names; `Err` names the bad value.
    pub fn from_env() -> Result<Option<Self>, String> {
        match std::env::var(RENDER_ENV) {
            Err(_) => Ok(None),
            Ok(v) => match v.trim().to_ascii_lowercase().as_str() {
                "" | "auto" => Ok(Some(RenderChoice::Auto)),
                "full" => Ok(Some(RenderChoice::Full)),
                "software" => Ok(Some(RenderChoice::Software)),
                other => Err(format!(
                    "{RENDER_ENV}={other:?}: expected full, software or auto"
                )),
            },
        }
    }
}

/// The profile in use, decided before the scene is built.
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderProfile {
    /// MSAA, tonemapping, lit materials.
    Full,
    /// No MSAA, no tonemapping, unlit materials with baked lighting.
    Software,
}

impl RenderProfile {
    /// The profile for `choice` on an adapter of this kind.
    pub fn decide(choice: RenderChoice, software_adapter: bool) -> Self {
        match choice {
            RenderChoice::Full => RenderProfile::Full,
            RenderChoice::Software => RenderProfile::Software,
            RenderChoice::Auto if software_adapter => RenderProfile::Software,
            RenderChoice::Auto => RenderProfile::Full,
        }
    }

    /// MSAA samples for the 3D camera.
    pub fn msaa(self) -> Msaa {
        match self {
            RenderProfile::Full => Msaa::Sample4,
            RenderProfile::Software => Msaa::Off,
        }
    }
}

/// Whether an adapter renders on the CPU.
pub fn is_software(info: &RenderAdapterInfo) -> bool {
    info.0.device_type == wgpu_types::DeviceType::Cpu
}

/// Chooses the profile before the scene is built (`PreStartup`).
pub struct RenderProfilePlugin;

impl Plugin for RenderProfilePlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(PreStartup, choose_profile);
    }
}

fn choose_profile(
    mut commands: Commands,
    adapter: Option<Res<RenderAdapterInfo>>,
    choice: Option<Res<RenderChoice>>,
) {
    let choice = match choice {
        Some(c) => Some(*c),
        None => RenderChoice::from_env().unwrap_or_else(|e| {
            warn!("{e}; choosing by the adapter");
            Some(RenderChoice::Auto)
        }),
    }
    .unwrap_or_default();
    let software = adapter.as_deref().is_some_and(is_software);
    let profile = RenderProfile::decide(choice, software);
    if let Some(info) = adapter.as_deref() {
        info!(
            "rendering on {} ({:?}): {profile:?} profile",
            info.0.name, info.0.device_type
        );
    }
    commands.insert_resource(profile);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_software_adapter_gets_the_cheap_profile_unless_told_otherwise() {
        use RenderChoice::*;
        assert_eq!(RenderProfile::decide(Auto, true), RenderProfile::Software);
        assert_eq!(RenderProfile::decide(Auto, false), RenderProfile::Full);
        assert_eq!(RenderProfile::decide(Full, true), RenderProfile::Full);
        assert_eq!(
            RenderProfile::decide(Software, false),
            RenderProfile::Software
        );
        assert_eq!(RenderProfile::Software.msaa(), Msaa::Off);
    }
}
