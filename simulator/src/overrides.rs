//! A script's surface, tool and grid, changed from the command line
//! (`penlab sim --surface … --tool … --grid …`): one rule for the headless
//! run and the 3D view.

use std::path::Path;

use crate::script::Script;
use crate::surfaces::BUILTIN_SURFACES;
use crate::{Error, Result};

/// What the command line changes in a script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptOverrides {
    /// A built-in surface's name, or a mesh file (relative to the working
    /// directory).
    pub surface: Option<String>,
    /// A tool profile's name.
    pub tool: Option<String>,
    /// Density grid texels per side.
    pub grid: Option<u32>,
}

impl ScriptOverrides {
    /// Applies the overrides to `script`.
    pub fn apply(&self, script: &mut Script) -> Result<()> {
        let spec = &mut script.spec;
        if let Some(surface) = &self.surface {
            if BUILTIN_SURFACES.contains(&surface.as_str()) {
                spec.surface.builtin = Some(surface.clone());
                spec.surface.mesh = None;
            } else {
                // A path on the command line is relative to where penlab runs.
                let path = std::env::current_dir()
                    .map_err(|e| Error::io(".", e))?
                    .join(Path::new(surface));
                spec.surface.builtin = None;
                spec.surface.mesh = Some(path);
            }
        }
        if let Some(tool) = &self.tool {
            spec.tool.profile = tool.clone();
        }
        if let Some(grid) = self.grid {
            spec.surface.grid = grid;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_builtin_name_replaces_the_mesh_and_a_path_replaces_the_builtin() {
        let mut script = Script::parse(
            Path::new("t.toml"),
            "[surface]\nbuiltin = \"flat-pad\"\n[tool]\nprofile = \"pen-14\"\n",
        )
        .unwrap();
        let overrides = ScriptOverrides {
            surface: Some("mesh.obj".into()),
            tool: Some("roller-192".into()),
            grid: Some(128),
        };
        overrides.apply(&mut script).unwrap();
        assert_eq!(script.spec.surface.builtin, None);
        let mesh = script.spec.surface.mesh.clone().unwrap();
        assert!(mesh.is_absolute() && mesh.ends_with("mesh.obj"), "{mesh:?}");
        assert_eq!(script.spec.tool.profile, "roller-192");
        assert_eq!(script.spec.surface.grid, 128);
        ScriptOverrides {
            surface: Some("forearm".into()),
            ..ScriptOverrides::default()
        }
        .apply(&mut script)
        .unwrap();
        assert_eq!(script.spec.surface.builtin.as_deref(), Some("forearm"));
        assert_eq!(script.spec.surface.mesh, None);
    }
}
