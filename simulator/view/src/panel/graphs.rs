//! The panel's graphs along the session: hand speed, density under the
//! tool and needle depth, each against the lines it is judged by (the
//! ideal in green, the minimum and maximum dashed in red), as the
//! trainee's report draws them ([`penlab_simulator::graphs`]).

use bevy_egui::egui;
use egui_plot::{Legend, Line, LineStyle, Plot};
use penlab_simulator::graphs::{self, Graph, IDEAL_COLOUR, LIMIT_COLOUR, VALUE_COLOUR};
use penlab_simulator::series::Series;

use super::rgb;

/// Height of each graph, points.
const GRAPH_HEIGHT: f32 = 100.0;

/// The section: collapsed unless reviewing (a demonstration or replay on a
/// timeline), when the graphs are what the trainer talks through.
pub(super) fn graphs_section(ui: &mut egui::Ui, series: &Series, reviewing: bool) {
    egui::CollapsingHeader::new(egui::RichText::new("Along the session").heading())
        .default_open(reviewing)
        .show(ui, |ui| {
            if series.points.is_empty() {
                ui.label("Nothing yet: the graphs start when the tool touches the skin.");
                return;
            }
            for graph in Graph::ALL {
                graph_plot(ui, series, graph);
            }
        });
}

fn graph_plot(ui: &mut egui::Ui, series: &Series, graph: Graph) {
    ui.label(format!("{} ({})", graph.title(), graph.unit()));
    let bands = graph.bands(series);
    let runs = graphs::runs(series, graph);
    Plot::new(format!("series-{}", graph.name()))
        .height(GRAPH_HEIGHT)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
        .include_y(0.0)
        .legend(Legend::default())
        .show(ui, |p| {
            for (label, ideal, points) in bands {
                let line = Line::new(label, points_of(&points));
                p.line(if ideal {
                    line.color(rgb(IDEAL_COLOUR))
                } else {
                    line.color(rgb(LIMIT_COLOUR))
                        .style(LineStyle::dashed_loose())
                });
            }
            for run in runs {
                p.line(Line::new("session", points_of(&run)).color(rgb(VALUE_COLOUR)));
            }
        });
}

fn points_of(points: &[(f64, f64)]) -> Vec<[f64; 2]> {
    points.iter().map(|&(t, v)| [t, v]).collect()
}
