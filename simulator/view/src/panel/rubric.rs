//! The panel's rubric: each skill's score 0–100 with its measure against
//! the rubric's target and range, the weighted total and pass or fail,
//! rescored with every refresh of the scores. Without `--rubric` it offers
//! the shipped rubrics.

use bevy_egui::egui;
use penlab_simulator::rubric::SHIPPED;

use crate::scoring::{LiveMetrics, LiveRubric};

const PASS: egui::Color32 = egui::Color32::from_rgb(80, 200, 120);
const FAIL: egui::Color32 = egui::Color32::from_rgb(230, 70, 70);

pub(super) fn rubric_section(ui: &mut egui::Ui, rubric: &mut LiveRubric, scores: &LiveMetrics) {
    ui.heading("Rubric");
    if rubric.from_command_line {
        if let Some(r) = &rubric.rubric {
            ui.label(format!("{} (--rubric {})", r.name, r.source.display()));
        }
    } else {
        let current = rubric.rubric.as_ref().map(|r| r.name.clone());
        let mut chosen = current.clone();
        egui::ComboBox::from_id_salt("rubric-choice")
            .selected_text(chosen.as_deref().unwrap_or("none"))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut chosen, None, "none");
                for (name, _) in SHIPPED {
                    ui.selectable_value(&mut chosen, Some(name.to_owned()), name);
                }
            });
        if chosen != current
            && let Err(e) = rubric.choose_shipped(chosen.as_deref(), scores.analysis.as_ref())
        {
            ui.colored_label(FAIL, e.to_string());
        }
    }
    if let Some(r) = &rubric.rubric
        && !r.description.is_empty()
    {
        ui.weak(&r.description);
    }
    let Some(s) = &rubric.scores else {
        if rubric.rubric.is_some() {
            ui.label("…");
        }
        return;
    };
    ui.horizontal(|ui| {
        let (verdict, colour) = if s.passed {
            ("PASS", PASS)
        } else {
            ("FAIL", FAIL)
        };
        ui.label(egui::RichText::new(format!("Total {:.0}", s.total)).strong());
        ui.label(format!("(pass mark {:.0})", s.pass_mark));
        ui.colored_label(colour, egui::RichText::new(verdict).strong());
    });
    egui::Grid::new("rubric-skills")
        .num_columns(3)
        .striped(true)
        .show(ui, |ui| {
            for k in &s.skills {
                ui.label(k.skill.title());
                let value = format!(
                    "{:.2} {} (target {}, {}–{})",
                    k.value, k.unit, k.target, k.range[0], k.range[1]
                );
                if k.in_range {
                    ui.label(value);
                } else {
                    ui.colored_label(FAIL, value);
                }
                let fill = if k.in_range { PASS } else { FAIL };
                ui.add(
                    egui::ProgressBar::new((k.score / 100.0).clamp(0.0, 1.0) as f32)
                        .desired_width(90.0)
                        .fill(fill.gamma_multiply(0.8))
                        .text(format!("{:.0}", k.score)),
                );
                ui.end_row();
            }
        });
    if !s.out_of_range.is_empty() {
        let names: Vec<&str> = s.out_of_range.iter().map(|k| k.title()).collect();
        ui.colored_label(FAIL, format!("Outside range: {}", names.join(", ")));
    }
}
