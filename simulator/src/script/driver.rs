//! Turns a script's patterns (raster, crosshatch, circles, presses, replays)
//! into poses and strikes on the surface, in time order.

use super::*;

pub(super) struct Driver<'a> {
    pub(super) script: &'a Script,
    pub(super) surface: &'a Surface,
    pub(super) tool: &'a Tool,
    /// The script's clock, in seconds.
    pub(super) t: f64,
}

impl Driver<'_> {
    fn settings(&self) -> &Settings {
        &self.script.spec.settings
    }

    fn force(&self) -> f32 {
        self.settings()
            .force_n
            .unwrap_or(self.tool.profile.full_contact_force_n)
    }

    fn pose(&self, uv: Vec2, travel_uv: Vec2, force: f32) -> Option<Pose> {
        let p = self.surface.point_at_uv(uv)?;
        let ahead = self
            .surface
            .point_at_uv((uv + travel_uv.normalize_or_zero() * 1e-3).clamp(Vec2::ZERO, Vec2::ONE))
            .map_or(Vec3::ZERO, |q| q.position - p.position);
        let travel = if ahead.length_squared() > 0.0 {
            ahead
        } else {
            // At the far edge look back instead.
            self.surface
                .point_at_uv(
                    (uv - travel_uv.normalize_or_zero() * 1e-3).clamp(Vec2::ZERO, Vec2::ONE),
                )
                .map_or(Vec3::Y, |q| p.position - q.position)
        };
        let tilt = Quat::from_rotation_x(self.settings().tilt_deg.to_radians());
        Some(Pose {
            t: self.t,
            position: p.position,
            orientation: orientation_facing(p.normal, travel) * tilt,
            force_n: force,
            depth_mm: self.settings().depth_mm,
        })
    }

    /// Runs one stroke along a UV polyline at `speed` mm/s, lifting at its end.
    fn stroke(&mut self, session: &mut dyn EventSink, path: &[Vec2], speed: f32) {
        if path.len() < 2 {
            return;
        }
        // Densify in UV to ~0.25 mm steps, map to 3D, then walk at constant speed.
        let mm = self.surface.mm_per_uv;
        let mut pts: Vec<(Vec2, Vec3)> = Vec::new();
        for seg in path.windows(2) {
            let d = (seg[1] - seg[0]) * mm;
            let steps = ((d.length() / 0.25).ceil() as usize).clamp(1, 1_000_000);
            for k in 0..steps {
                let uv = seg[0].lerp(seg[1], k as f32 / steps as f32);
                if let Some(p) = self.surface.point_at_uv(uv) {
                    pts.push((uv, p.position));
                }
            }
        }
        if let Some(&last) = path.last()
            && let Some(p) = self.surface.point_at_uv(last)
        {
            pts.push((last, p.position));
        }
        if pts.len() < 2 {
            return;
        }
        let dt = 1.0 / f64::from(self.settings().pose_rate_hz);
        let step = f64::from(speed) * dt;
        let force = self.force();
        let mut along = 0.0f64;
        let mut next = 0.0f64;
        let t0 = self.t;
        let mut k = 0u64;
        for w in pts.windows(2) {
            let ((uv0, p0), (uv1, p1)) = (w[0], w[1]);
            let len = f64::from(p0.distance(p1));
            let travel = uv1 - uv0;
            while next <= along + len {
                let s = if len > 0.0 {
                    ((next - along) / len) as f32
                } else {
                    0.0
                };
                self.t = t0 + k as f64 * dt;
                if let Some(pose) = self.pose(uv0.lerp(uv1, s), travel, force) {
                    session.push_pose_event(pose);
                }
                k += 1;
                next = k as f64 * step;
            }
            along += len;
        }
        // The end of the stroke, then lift.
        let (uv_end, _) = pts[pts.len() - 1];
        let travel = uv_end - pts[pts.len() - 2].0;
        self.t = t0 + along / f64::from(speed);
        if let Some(pose) = self.pose(uv_end, travel, force) {
            session.push_pose_event(pose);
            session.push_pose_event(Pose {
                force_n: 0.0,
                ..pose
            });
        }
        self.t += f64::from(self.settings().transit_s);
    }

    fn press(&mut self, session: &mut dyn EventSink, uv: Vec2) {
        let force = self.force();
        if let Some(pose) = self.pose(uv, Vec2::Y, force) {
            let half = f64::from(self.settings().press_s) / 2.0;
            session.push_pose_event(Pose {
                force_n: 0.0,
                ..pose
            });
            self.t += half;
            let pressed = Pose { t: self.t, ..pose };
            session.push_pose_event(pressed);
            session.push(&Event::Strike {
                t: self.t,
                depth_mm: None,
            });
            session.push_pose_event(Pose {
                force_n: 0.0,
                ..pressed
            });
            self.t += half;
        }
    }

    fn spacing(&self, lines: &Pattern) -> f32 {
        let footprint = self.tool.footprint_mm;
        lines
            .spacing_mm
            .unwrap_or(footprint * (1.0 - lines.overlap))
            .max(0.05)
    }

    /// Lines across `area` along `along`: UV polylines, centred in bands of `spacing`.
    fn lines(&self, lines: &Pattern, along: Along) -> Vec<[Vec2; 2]> {
        let spacing = self.spacing(lines);
        let a = &lines.area;
        let mm = self.surface.mm_per_uv;
        let (across, du) = match along {
            Along::U => (a.v, spacing / mm.y.max(1e-6)),
            Along::V => (a.u, spacing / mm.x.max(1e-6)),
        };
        let mut out = Vec::new();
        let mut c = across[0] + du / 2.0;
        while c <= across[1] + 1e-6 && out.len() < 100_000 {
            out.push(match along {
                Along::U => [Vec2::new(a.u[0], c), Vec2::new(a.u[1], c)],
                Along::V => [Vec2::new(c, a.v[0]), Vec2::new(c, a.v[1])],
            });
            c += du;
        }
        out
    }

    fn raster(&mut self, session: &mut dyn EventSink, lines: &Pattern, along: Along) {
        let set = self.lines(lines, along);
        if self.tool.profile.kind == ToolKind::Stamp {
            // A stamp is pressed along the lines at the same spacing.
            let step = self.spacing(lines);
            let mm = self.surface.mm_per_uv;
            for [a, b] in set {
                let len = ((b - a) * mm).length();
                let n = (len / step).floor().max(0.0) as usize;
                for k in 0..=n {
                    let s = ((k as f32 + 0.5) * step / len.max(1e-6)).min(1.0);
                    self.press(session, a.lerp(b, s));
                }
            }
            return;
        }
        for (i, [a, b]) in set.into_iter().enumerate() {
            // Alternate directions as a practitioner would.
            let path = if i % 2 == 0 { [a, b] } else { [b, a] };
            self.stroke(session, &path, lines.speed_mm_s.unwrap_or(1.0));
        }
    }

    fn circles(&mut self, session: &mut dyn EventSink, lines: &Pattern, radius_mm: f32) {
        let mm = self.surface.mm_per_uv;
        let r = Vec2::splat(radius_mm) / mm.max(Vec2::splat(1e-6));
        for [a, b] in self.lines(lines, Along::U) {
            let step = self.spacing(lines) / mm.x.max(1e-6);
            let mut u = a.x + step / 2.0;
            while u <= b.x + 1e-6 {
                let c = Vec2::new(u, a.y);
                let path: Vec<Vec2> = (0..=48)
                    .map(|k| {
                        let ang = std::f32::consts::TAU * k as f32 / 48.0;
                        (c + Vec2::from_angle(ang) * r).clamp(Vec2::ZERO, Vec2::ONE)
                    })
                    .collect();
                self.stroke(session, &path, lines.speed_mm_s.unwrap_or(1.0));
                u += step;
            }
        }
    }

    pub(super) fn pattern(
        &mut self,
        p: &Pattern,
        session: &mut dyn EventSink,
        source: StrikeSource,
        rate: f32,
    ) -> Result<()> {
        let is_stamp = self.tool.profile.kind == ToolKind::Stamp;
        match p.kind {
            PatternKind::Raster => {
                for _ in 0..p.passes {
                    self.raster(session, p, p.along);
                }
            }
            PatternKind::Crosshatch => {
                for _ in 0..p.passes {
                    self.raster(session, p, Along::U);
                    self.raster(session, p, Along::V);
                }
            }
            PatternKind::Circles => {
                if is_stamp {
                    return Err(Error::Invalid(format!(
                        "{}: circles need a pen or a roller, not the stamp {}",
                        self.script.path.display(),
                        self.tool.profile.name
                    )));
                }
                for _ in 0..p.passes {
                    self.circles(session, p, p.radius_mm.unwrap_or(1.0));
                }
            }
            PatternKind::Press => {
                for &[u, v] in &p.points {
                    self.press(session, Vec2::new(u, v));
                }
            }
            PatternKind::Replay => {
                let Some(file) = &p.file else { return Ok(()) };
                let path = self.script.resolve(file);
                session.set_strike_source(match p.strikes {
                    ReplayStrikes::Recorded => StrikeSource::Events,
                    ReplayStrikes::Rate => StrikeSource::Rate(f64::from(rate)),
                });
                replay_file(&path, session)?;
                session.set_strike_source(source);
            }
        }
        Ok(())
    }
}
