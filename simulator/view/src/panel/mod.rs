//! The trainer's panel (egui): the pen, its settings, live scores, the
//! density histogram, depth over time, the skin under the tool, and
//! screenshots, exports, recording and replay.

use std::path::PathBuf;

use bevy::camera::visibility::RenderLayers;
use bevy::camera::{CameraOutputMode, Viewport};
use bevy::prelude::*;
use bevy::render::render_resource::BlendState;
use bevy::window::PrimaryWindow;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};
use egui_plot::{Bar, BarChart, HLine, Line, Plot};
use penlab_live::coverage::{HeatmapMode, LiveCoverage, depth_colour};
use penlab_live::link::{LinkCommand, PenLink};
use penlab_live::session::{Connection, Severity};
use penlab_protocol::message::FaultCode;
use penlab_simulator::heatmap::class_colour;
use penlab_simulator::metrics::{self, Analysis, Class};
use penlab_simulator::script::replay_file;
use penlab_simulator::session::StrikeSource;

use crate::camera::OrbitCamera;
use crate::capture::{SaveScreenshot, export, timestamped};
use crate::options::{Demo, DemoStrikes};
use crate::pen::{DemoPlayer, Live, Options, Settings, ToolPose};
use crate::pen::{request_depth, request_rate};
use crate::tool::Trails;
use crate::upload::UploadStats;

/// How often the scores are recomputed, s: a full analysis is O(grid),
/// too much for every frame and more than a reader can follow.
const METRICS_PERIOD_S: f64 = 0.5;
/// Width of a density histogram bin, punctures/cm².
const DENSITY_BIN: f64 = 25.0;

/// The latest scores.
#[derive(Resource, Default)]
pub struct LiveMetrics {
    /// The analysis, once there is one.
    pub analysis: Option<Analysis>,
    /// Session time it was made at, s.
    pub at: f64,
}

/// Panel state that is not a setting.
#[derive(Resource)]
struct PanelState {
    replay_path: String,
    note: Option<String>,
    fault: FaultCode,
}

/// The egui panel and the scores behind it.
pub struct PanelPlugin;

impl Plugin for PanelPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<LiveMetrics>()
            .insert_resource(PanelState {
                replay_path: String::new(),
                note: None,
                fault: FaultCode::MotorStall,
            })
            .add_systems(Startup, spawn_panel_camera)
            .add_systems(Update, refresh_metrics)
            .add_systems(EguiPrimaryContextPass, panel);
    }
}

/// The panel gets a camera of its own, drawn over the 3D view: egui's
/// screen is its camera's viewport, and the 3D camera's viewport shrinks to
/// leave room for the panel.
fn spawn_panel_camera(mut commands: Commands, mut egui: ResMut<bevy_egui::EguiGlobalSettings>) {
    egui.auto_create_primary_context = false;
    commands.spawn((
        Name::new("panel camera"),
        bevy_egui::PrimaryEguiContext,
        Camera2d,
        RenderLayers::none(),
        Camera {
            order: 1,
            output_mode: CameraOutputMode::Write {
                blend_state: Some(BlendState::ALPHA_BLENDING),
                clear_color: ClearColorConfig::None,
            },
            clear_color: ClearColorConfig::Custom(Color::NONE),
            ..default()
        },
    ));
}

fn refresh_metrics(live: Res<Live>, mut scores: ResMut<LiveMetrics>) {
    let now = live.0.now();
    if scores.analysis.is_some() && now - scores.at < METRICS_PERIOD_S {
        return;
    }
    scores.at = now;
    match metrics::analyse(live.0.coverage.session(), live.0.coverage.config()) {
        Ok(a) => scores.analysis = Some(a),
        Err(e) => warn!("scores: {e}"),
    }
}

fn rgb(c: [u8; 3]) -> egui::Color32 {
    egui::Color32::from_rgb(c[0], c[1], c[2])
}

#[allow(clippy::too_many_arguments)]
fn panel(
    mut contexts: EguiContexts,
    mut live: ResMut<Live>,
    mut settings: ResMut<Settings>,
    mut trails: ResMut<Trails>,
    mut state: ResMut<PanelState>,
    mut commands: Commands,
    scores: Res<LiveMetrics>,
    options: Res<Options>,
    tool: Res<ToolPose>,
    upload: Res<UploadStats>,
    diagnostics: Res<Time>,
    player: Option<ResMut<DemoPlayer>>,
    mut shots: MessageWriter<SaveScreenshot>,
    mut camera: Query<&mut Camera, With<OrbitCamera>>,
    window: Query<&Window, With<PrimaryWindow>>,
) -> Result {
    let ctx = contexts.ctx_mut()?.clone();
    let mut root = egui::Ui::new(
        ctx.clone(),
        "penlab-root".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    let width = egui::Panel::right("penlab-panel")
        .resizable(true)
        .default_size(360.0)
        .show(&mut root, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                pen_section(ui, &mut live, &mut settings, &mut state, &options);
                ui.separator();
                scores_section(ui, &live, &scores);
                ui.separator();
                depth_section(ui, &live, &tool, &settings);
                ui.separator();
                view_section(
                    ui,
                    &mut live,
                    &mut trails,
                    &upload,
                    diagnostics.delta_secs(),
                );
                ui.separator();
                session_section(
                    ui,
                    &mut live,
                    &mut state,
                    &options,
                    player,
                    &mut commands,
                    &mut shots,
                );
            });
        })
        .response
        .rect
        .width();
    // Keep the 3D view beside the panel, not under it.
    if let (Ok(window), Ok(mut camera)) = (window.single(), camera.single_mut()) {
        let panel_px = (width * window.scale_factor()) as u32;
        let size = UVec2::new(
            window.physical_width().saturating_sub(panel_px).max(1),
            window.physical_height().max(1),
        );
        camera.viewport = Some(Viewport {
            physical_position: UVec2::ZERO,
            physical_size: size,
            ..default()
        });
    }
    Ok(())
}

fn pen_section(
    ui: &mut egui::Ui,
    live: &mut Live,
    settings: &mut Settings,
    state: &mut PanelState,
    options: &Options,
) {
    ui.heading("Pen");
    let pen = live.0.pen().clone();
    ui.label(format!("Source: {}", pen.source));
    match &pen.connection {
        Connection::NoPen => {
            ui.label("No pen: the tool strikes by itself.");
        }
        Connection::Connecting => {
            ui.label("Connecting…");
        }
        Connection::Connected => {
            ui.colored_label(egui::Color32::from_rgb(60, 170, 90), "Connected");
        }
        Connection::Disconnected(reason) => {
            ui.colored_label(
                egui::Color32::from_rgb(220, 50, 50),
                format!("DISCONNECTED: {reason}. The session so far is kept."),
            );
            if let Some(source) = &options.0.pen
                && ui.button("Reconnect").clicked()
            {
                live.0.reconnect(PenLink::start(source.clone()));
            }
        }
    }
    if let Some(id) = &pen.identity {
        ui.label(format!(
            "{} · firmware {} · serial {}",
            id.model, id.firmware, id.serial
        ));
    }
    if let Some(s) = &pen.status {
        ui.label(format!(
            "State {:?} · depth {:.2} mm · rate {:.1} Hz · cartridge {:?}",
            s.state,
            f32::from(s.depth_set_um) / 1000.0,
            f32::from(s.rate_set_chz) / 100.0,
            s.cartridge
        ));
    }
    if let Some(t) = &pen.telemetry {
        ui.label(format!(
            "Measured depth {:.2} mm · {:.1} Hz · {} mA · {:.2} N · battery {} % · {:.1} °C",
            f32::from(t.depth_um) / 1000.0,
            f32::from(t.rate_chz) / 100.0,
            t.current_ma,
            f32::from(t.force_mn) / 1000.0,
            t.battery_pct,
            f32::from(t.temperature_dc) / 10.0
        ));
    }
    for fault in &pen.active_faults {
        ui.colored_label(
            egui::Color32::from_rgb(220, 50, 50),
            format!("FAULT: {fault:?}"),
        );
    }
    ui.label(format!(
        "Strikes {} ({} in the air)",
        pen.strikes, pen.strikes_in_air
    ));

    if let Some(caps) = pen.limits.clone() {
        let (lo, hi) = (
            f32::from(caps.depth_min_um) / 1000.0,
            f32::from(caps.depth_max_um) / 1000.0,
        );
        let mut depth = settings.depth_mm;
        let r = ui.add(
            egui::Slider::new(&mut depth, lo..=hi)
                .text("depth mm")
                .step_by(f64::from(caps.depth_step_um.max(1)) / 1000.0),
        );
        if r.drag_stopped() || (r.changed() && !r.dragged()) {
            settings.depth_mm = request_depth(&mut live.0, depth);
        } else if r.changed() {
            settings.depth_mm = depth;
        }
        let labelled = f32::from(caps.labelled_max_depth_um) / 1000.0;
        if settings.depth_mm > labelled {
            ui.colored_label(
                egui::Color32::from_rgb(230, 140, 20),
                format!("Beyond the labelled safe depth of {labelled:.2} mm"),
            );
        }
        if caps.rate_max_chz > caps.rate_min_chz {
            let mut rate = settings.rate_hz;
            let r = ui.add(
                egui::Slider::new(
                    &mut rate,
                    f32::from(caps.rate_min_chz) / 100.0..=f32::from(caps.rate_max_chz) / 100.0,
                )
                .text("rate Hz"),
            );
            if r.drag_stopped() || (r.changed() && !r.dragged()) {
                settings.rate_hz = request_rate(&mut live.0, rate);
            } else if r.changed() {
                settings.rate_hz = rate;
            }
        } else {
            ui.label(format!(
                "Fixed rate {:.1} Hz",
                f32::from(caps.rate_min_chz) / 100.0
            ));
        }
    }
    ui.add(egui::Slider::new(&mut settings.force_n, 0.2..=6.0).text("contact force N"));
    ui.add(egui::Slider::new(&mut settings.tilt_deg, -30.0..=30.0).text("tilt °"));
    ui.checkbox(&mut settings.motor_follows_contact, "Motor follows contact");
    ui.horizontal(|ui| {
        if ui.button("Start motor").clicked() {
            live.0.command(LinkCommand::Start);
        }
        if ui.button("Stop motor").clicked() {
            live.0.command(LinkCommand::Stop);
        }
        if ui
            .button(
                egui::RichText::new("EMERGENCY STOP").color(egui::Color32::from_rgb(220, 50, 50)),
            )
            .clicked()
        {
            live.0.command(LinkCommand::EmergencyStop);
        }
    });
    if live.0.pen_is_mock() {
        ui.collapsing("Mock pen's world", |ui| {
            ui.horizontal(|ui| {
                egui::ComboBox::from_id_salt("fault")
                    .selected_text(format!("{:?}", state.fault))
                    .show_ui(ui, |ui| {
                        for code in [
                            FaultCode::MotorStall,
                            FaultCode::OverCurrent,
                            FaultCode::OverTemperature,
                            FaultCode::DepthDriveJam,
                            FaultCode::LowBattery,
                        ] {
                            ui.selectable_value(&mut state.fault, code, format!("{code:?}"));
                        }
                    });
                if ui.button("Inject").clicked() {
                    live.0.command(LinkCommand::Env(
                        penlab_host::env::EnvCommand::InjectFault { code: state.fault },
                    ));
                }
                if ui.button("Clear").clicked() {
                    live.0
                        .command(LinkCommand::Env(penlab_host::env::EnvCommand::ClearFault {
                            code: state.fault,
                        }));
                }
            });
            ui.horizontal(|ui| {
                if ui.button("Remove cartridge").clicked() {
                    live.0.command(LinkCommand::Env(
                        penlab_host::env::EnvCommand::RemoveCartridge,
                    ));
                }
                if ui.button("Fit a fresh cartridge").clicked() {
                    let needles = live.0.pen().limits.as_ref().map_or(14, |c| c.needle_count);
                    let id = (live.0.now() * 1000.0) as u32 | 0x1000;
                    live.0.command(LinkCommand::Env(
                        penlab_host::env::EnvCommand::InsertCartridge { id, needles },
                    ));
                }
                if ui.button("Re-handshake").clicked() {
                    live.0.command(LinkCommand::Hello);
                }
            });
        });
    }
    ui.collapsing("Pen log", |ui| {
        for (t, severity, text) in pen.log.iter().rev().take(12) {
            let colour = match severity {
                Severity::Info => ui.visuals().text_color(),
                Severity::Warning => egui::Color32::from_rgb(230, 140, 20),
                Severity::Error => egui::Color32::from_rgb(220, 50, 50),
            };
            ui.colored_label(colour, format!("{t:7.1} s  {text}"));
        }
    });
}

fn scores_section(ui: &mut egui::Ui, live: &Live, scores: &LiveMetrics) {
    ui.heading("Scores");
    let Some(a) = &scores.analysis else {
        ui.label("…");
        return;
    };
    let r = &a.report;
    let [lo, hi] = r.settings.band_per_cm2;
    egui::Grid::new("scores").num_columns(2).show(ui, |ui| {
        ui.label("Coverage in band");
        ui.label(format!("{:.1} % ({lo}–{hi} /cm²)", r.coverage * 100.0));
        ui.end_row();
        ui.label("Mean density");
        ui.label(format!("{:.0} /cm²", r.mean_density_per_cm2));
        ui.end_row();
        ui.label("Evenness (CV)");
        ui.label(format!("{:.3}", r.evenness_cv));
        ui.end_row();
        ui.label("Gaps");
        ui.label(format!(
            "{} ({:.2} cm²)",
            r.gaps.count, r.gaps.total_area_cm2
        ));
        ui.end_row();
        ui.label("Hot spots");
        ui.label(format!(
            "{} ({:.2} cm²)",
            r.hot_spots.count, r.hot_spots.total_area_cm2
        ));
        ui.end_row();
        let cells: Vec<_> = r
            .passes
            .regions
            .iter()
            .filter(|g| g.region.starts_with("cell"))
            .collect();
        ui.label("Passes");
        ui.label(format!(
            "{} strokes, {:.0} mm/s, crosshatched {}/{}",
            r.passes.strokes,
            r.passes.mean_speed_mm_s,
            cells.iter().filter(|c| c.crosshatch).count(),
            cells.len()
        ));
        ui.end_row();
        ui.label("Depth violations");
        let text = format!("{}", r.depth.violations);
        if r.depth.violations > 0 {
            ui.colored_label(egui::Color32::from_rgb(220, 50, 50), text);
        } else {
            ui.label(text);
        }
        ui.end_row();
        ui.label("Punctures");
        ui.label(format!("{} from {} strikes", r.punctures, r.strikes));
        ui.end_row();
    });
    // Density histogram over the treatment area, bars in the class colours.
    let config = live.0.coverage.config();
    let top = config.hot_above_per_cm2 * 1.5;
    let bins = (top / DENSITY_BIN).ceil() as usize + 1;
    let mut counts = vec![0u64; bins];
    for (d, c) in a.density.iter().zip(&a.class) {
        if *c != Class::Outside {
            counts[((f64::from(*d) / DENSITY_BIN) as usize).min(bins - 1)] += 1;
        }
    }
    let bars: Vec<Bar> = counts
        .iter()
        .enumerate()
        .map(|(k, &n)| {
            let centre = (k as f64 + 0.5) * DENSITY_BIN;
            Bar::new(centre, n as f64)
                .width(DENSITY_BIN * 0.9)
                .fill(rgb(class_colour(metrics::classify(centre, config))))
        })
        .collect();
    ui.label("Density over the treatment area (texels per /cm² bin)");
    Plot::new("density-histogram")
        .height(110.0)
        .allow_scroll(false)
        .allow_drag(false)
        .show(ui, |p| p.bar_chart(BarChart::new("density", bars)));
}

fn depth_section(ui: &mut egui::Ui, live: &Live, tool: &ToolPose, settings: &Settings) {
    ui.heading("Depth");
    let series = live.0.depth_series();
    let now = live.0.now();
    let points: Vec<[f64; 2]> = series
        .iter()
        .filter(|(t, _)| now - t < 30.0)
        .map(|(t, d)| [t - now, f64::from(*d)])
        .collect();
    let limit = tool.pose.and_then(|p| live.0.coverage.zone_limit_under(&p));
    Plot::new("depth-over-time")
        .height(110.0)
        .allow_scroll(false)
        .allow_drag(false)
        .include_y(0.0)
        .include_y(f64::from(settings.depth_mm) * 1.3 + 0.1)
        .include_x(-30.0)
        .include_x(0.0)
        .show(ui, |p| {
            p.line(Line::new("strike depth mm", points));
            p.hline(HLine::new("set depth", f64::from(settings.depth_mm)));
            if let Some(l) = limit {
                p.hline(HLine::new("zone limit", f64::from(l)).color(egui::Color32::RED));
            }
        });
    cross_section(ui, live, settings.depth_mm, limit);
}

/// Skin layers under the tool (typical thicknesses, mm; they vary by site).
const LAYERS: [(&str, f32, [u8; 3]); 5] = [
    ("stratum corneum", 0.02, [214, 180, 150]),
    ("epidermis", 0.1, [240, 200, 180]),
    ("papillary dermis", 0.5, [236, 160, 160]),
    ("reticular dermis", 2.0, [210, 120, 120]),
    ("hypodermis", 3.0, [250, 230, 160]),
];

fn cross_section(ui: &mut egui::Ui, live: &Live, set_depth: f32, limit: Option<f32>) {
    let (rect, _) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), 150.0),
        egui::Sense::hover(),
    );
    let painter = ui.painter_at(rect);
    let full = 3.0f32;
    let y = |d: f32| rect.top() + 10.0 + (d / full) * (rect.height() - 12.0);
    let mut top = 0.0;
    for (name, bottom, c) in LAYERS {
        let r = egui::Rect::from_min_max(
            egui::pos2(rect.left(), y(top)),
            egui::pos2(rect.right(), y(bottom)),
        );
        painter.rect_filled(r, 0.0, rgb(c));
        if r.height() > 12.0 {
            painter.text(
                r.left_center() + egui::vec2(4.0, 0.0),
                egui::Align2::LEFT_CENTER,
                name,
                egui::FontId::proportional(11.0),
                egui::Color32::from_gray(40),
            );
        }
        top = bottom;
    }
    let last = live.0.depth_series().back().map(|(_, d)| *d);
    let needle_colour = {
        let [r, g, b, _] = depth_colour(set_depth);
        egui::Color32::from_rgb(r, g, b)
    };
    for k in 0..5 {
        let x = rect.center().x + (k as f32 - 2.0) * 14.0;
        painter.line_segment(
            [egui::pos2(x, y(0.0) - 8.0), egui::pos2(x, y(set_depth))],
            egui::Stroke::new(2.0, needle_colour),
        );
    }
    if let Some(d) = last {
        painter.line_segment(
            [
                egui::pos2(rect.left() + 120.0, y(d)),
                egui::pos2(rect.right() - 10.0, y(d)),
            ],
            egui::Stroke::new(1.0, egui::Color32::from_gray(30)),
        );
        painter.text(
            egui::pos2(rect.right() - 10.0, y(d) - 2.0),
            egui::Align2::RIGHT_BOTTOM,
            format!("last strike {d:.2} mm"),
            egui::FontId::proportional(11.0),
            egui::Color32::from_gray(20),
        );
    }
    if let Some(l) = limit {
        painter.line_segment(
            [
                egui::pos2(rect.left(), y(l)),
                egui::pos2(rect.right(), y(l)),
            ],
            egui::Stroke::new(1.5, egui::Color32::RED),
        );
        painter.text(
            egui::pos2(rect.right() - 10.0, y(l) + 2.0),
            egui::Align2::RIGHT_TOP,
            format!("zone limit {l:.2} mm"),
            egui::FontId::proportional(11.0),
            egui::Color32::RED,
        );
    }
}

fn view_section(
    ui: &mut egui::Ui,
    live: &mut Live,
    trails: &mut Trails,
    upload: &UploadStats,
    dt: f32,
) {
    ui.heading("View");
    let mut mode = live.0.coverage.mode();
    ui.horizontal(|ui| {
        ui.radio_value(&mut mode, HeatmapMode::Density, "Density");
        ui.radio_value(&mut mode, HeatmapMode::Depth, "Depth");
        ui.checkbox(&mut trails.visible, "Trails");
    });
    live.0.coverage.set_mode(mode);
    ui.horizontal_wrapped(|ui| {
        let legend: &[(Class, &str)] = &[
            (Class::Gap, "gap"),
            (Class::Under, "under"),
            (Class::InBand, "in band"),
            (Class::Over, "over"),
            (Class::Hot, "hot spot"),
        ];
        for (class, name) in legend {
            ui.colored_label(rgb(class_colour(*class)), format!("■ {name}"));
        }
    });
    ui.label(format!(
        "{:.1} ms/frame · heatmap upload {} tiles, {} KiB",
        dt * 1000.0,
        upload.patches,
        upload.bytes / 1024
    ));
    ui.small("Left button: needles on · right drag: orbit · middle drag: pan · wheel: zoom · ↑↓ depth · ←→ rate · Space motor · E e-stop · H heatmap · T trails · F12 screenshot");
}

#[allow(clippy::too_many_arguments)]
fn session_section(
    ui: &mut egui::Ui,
    live: &mut Live,
    state: &mut PanelState,
    options: &Options,
    player: Option<ResMut<DemoPlayer>>,
    commands: &mut Commands,
    shots: &mut MessageWriter<SaveScreenshot>,
) {
    ui.heading("Session");
    let dir = options.0.export_dir.clone();
    ui.horizontal(|ui| {
        if ui.button("Screenshot").clicked() {
            let path = timestamped(&dir, "screenshot", "png");
            state.note = Some(format!("screenshot: {}", path.display()));
            shots.write(SaveScreenshot(path));
        }
        if ui.button("Export report + heatmap").clicked() {
            state.note = Some(match export(live, &dir) {
                Ok((r, h)) => format!("wrote {} and {}", r.display(), h.display()),
                Err(e) => format!("export failed: {e}"),
            });
        }
    });
    ui.horizontal(|ui| match live.0.recording().map(|p| p.to_owned()) {
        Some(path) => {
            ui.label(format!("● recording to {}", path.display()));
            if ui.button("Stop").clicked() {
                state.note = Some(match live.0.stop_recording() {
                    Ok(_) => format!("recorded {}", path.display()),
                    Err(e) => format!("recording failed: {e}"),
                });
            }
        }
        None => {
            if ui.button("Record").clicked() {
                let path = timestamped(&dir, "session", "jsonl");
                if let Err(e) = live.0.start_recording(&path) {
                    state.note = Some(format!("cannot record to {}: {e}", path.display()));
                }
            }
        }
    });
    ui.horizontal(|ui| {
        ui.text_edit_singleline(&mut state.replay_path);
        if ui.button("Replay").clicked() {
            state.note = Some(
                match start_replay(live, options, &state.replay_path, commands) {
                    Ok(n) => format!("replaying {n} events"),
                    Err(e) => format!("replay: {e}"),
                },
            );
        }
    });
    if let Some(player) = player {
        ui.add(egui::ProgressBar::new(player.progress()).text(player.demo.name.clone()));
    }
    if ui.button("Reset coverage").clicked() {
        match fresh_coverage(live, options, None) {
            Ok(()) => state.note = Some("coverage reset".into()),
            Err(e) => state.note = Some(format!("reset: {e}")),
        }
    }
    if let Some(note) = &state.note {
        ui.small(note.as_str());
    }
}

fn fresh_coverage(
    live: &mut Live,
    options: &Options,
    source: Option<StrikeSource>,
) -> anyhow::Result<()> {
    let o = &options.0;
    let source = source.unwrap_or(if live.0.pen_drives_strikes() {
        StrikeSource::Events
    } else {
        StrikeSource::Rate(f64::from(o.tool.profile.rate_hz.unwrap_or(100.0)))
    });
    let mut fresh = LiveCoverage::new(
        o.surface.clone(),
        o.tool.clone(),
        source,
        o.metrics.clone(),
        o.pass_cells,
    )?;
    fresh.set_mode(live.0.coverage.mode());
    live.0.coverage = fresh;
    Ok(())
}

/// Plays a recorded session from the start on fresh coverage, with its
/// recorded strikes (the pen's own strikes are set aside meanwhile).
fn start_replay(
    live: &mut Live,
    options: &Options,
    path: &str,
    commands: &mut Commands,
) -> anyhow::Result<usize> {
    let path = PathBuf::from(path.trim());
    let mut events = Vec::new();
    replay_file(&path, &mut events)?;
    fresh_coverage(live, options, Some(StrikeSource::Events))?;
    live.0.set_pen_strikes(false);
    let n = events.len();
    commands.insert_resource(DemoPlayer {
        demo: Demo {
            events,
            strikes: DemoStrikes::Recorded,
            speed: 1.0,
            name: path.display().to_string(),
        },
        next: 0,
        start_t: live.0.now(),
        paused: false,
    });
    Ok(n)
}
